// The first thing the sitting reader runs (an async module with no imports, in the page's head):
// it starts what the first page needs while the rest of the page and the reader's modules still
// load and compile, so that a member joining a sitting in progress sees the presented page soon.
//   - the pdf.js worker (a module worker that takes a while to load and start);
//   - the bytes of the presented document (from the state embedded in the page, #live-presented),
//     in one request when the file is small enough to read whole (larger files are read by
//     range as the pages are drawn), and pdf.js opening them and the presented page.
// window.councilReaderBoot = {worker, take(url) -> Promise<ArrayBuffer> | null}; pane.js uses them.
export const WHOLE_FILE_MAX = 3 * 1024 * 1024;

function read(id) {
  const el = document.getElementById(id);
  try { return el ? JSON.parse(el.textContent) : null; } catch { return null; }
}

const fetches = new Map();
const boot = {
  worker: null,
  fetch(url) {
    if (!fetches.has(url)) {
      const request = fetch(url, { credentials: "same-origin" }).then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.arrayBuffer();
      });
      request.catch(() => {}); // whoever takes it sees the error
      fetches.set(url, request);
    }
    return fetches.get(url);
  },
  take(url) {
    const request = fetches.get(url) || null;
    fetches.delete(url);
    return request;
  },
};
window.councilReaderBoot = boot;

try { performance.mark("reader:boot"); } catch { /* old browsers */ }
// Arriving after the reader itself (this script was slow to load): the reader has already started
// its own worker and fetch, so starting more would only read the document twice.
const late = Boolean(window.councilReader);
const config = late ? {} : read("reader-config") || {};
if (config.worker && typeof Worker !== "undefined") {
  try { boot.worker = new Worker(config.worker, { type: "module" }); } catch { boot.worker = null; }
}
const presented = late ? null : read("live-presented");
const shown = presented && presented.presentation;
if (shown && shown.version_id) {
  for (const doc of read("reader-documents") || []) {
    const version = (doc.versions || []).find((v) => v.id === shown.version_id);
    if (version && version.url && version.size && version.size <= WHOLE_FILE_MAX) {
      boot.fetch(version.url);
      // pdf.js (preloaded with the page) reads the document in its worker as soon as the bytes are
      // here, while the page's other modules still run; the pane adopts it (pane.js: openEarly),
      // unless it took the bytes first.
      import("./pane.js")
        .then(({ openEarly }) => {
          const bytes = boot.take(version.url);
          if (bytes) openEarly(config, version.url, bytes, shown.page);
        })
        .catch(() => {});
    }
  }
}
