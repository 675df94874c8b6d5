// One document view of the reader: a pdf.js document drawn page by page on a canvas, with a text
// layer (so Japanese text can be selected and found), zoom by buttons or pinch, and swipe to turn.
import * as pdfjsLib from "../../vendor/pdfjs/pdf.min.mjs";

const MIN_ZOOM = 0.5;
const MAX_ZOOM = 4;
const SWIPE_PX = 60;
const TAP_PX = 10;
const TAP_MS = 350;

let configured = false;

export function configurePdfjs(config) {
  if (configured) return;
  pdfjsLib.GlobalWorkerOptions.workerSrc = config.worker;
  // The worker boot.js started while the page loaded (one worker serves every document).
  const boot = window.councilReaderBoot;
  if (boot && boot.worker) pdfjsLib.GlobalWorkerOptions.workerPort = boot.worker;
  configured = true;
}

// Files up to this size are read in one request (fewer round trips than page by page ranges);
// larger ones (scanned packets) by range, only the bytes of the pages drawn.
const WHOLE_FILE_MAX = 3 * 1024 * 1024;

// How every document is opened: a small file from its bytes, a large one by range (the server sends
// Accept-Ranges and no content encoding; the served copy is linearized): only the bytes of the
// pages drawn are fetched.
export function documentOptions(config, source) {
  return {
    ...source,
    cMapUrl: config.cmaps,
    cMapPacked: true,
    standardFontDataUrl: config.fonts,
    wasmUrl: config.wasm, // JPEG 2000 and JBIG2 decoders (scanned packets)
    isEvalSupported: false,
    disableAutoFetch: true,
    disableStream: true,
    rangeChunkSize: 262144,
    enableXfa: false,
  };
}

// Documents boot.js opened before the reader existed: url -> Promise<loading task | null>.
const early = new Map();
// The presented page's text, asked for with the document: url -> {page, content: Promise<TextContent>}.
const earlyText = new Map();

// Called by boot.js with the presented document's bytes: pdf.js reads the document and the
// presented page in its worker while the page's other modules still run, and the page's text is
// asked for at once: to extract it the worker translates the page's fonts (for a Japanese packet,
// large CJK fonts: the worker's longest step before a first page can be drawn), which it keeps for
// the drawing. The text is the first text layer's (nothing is asked twice).
export function openEarly(config, url, bytes, page) {
  configurePdfjs(config);
  const n = Math.max(1, page | 0 || 1);
  mark("pane:early");
  const task = bytes.then((data) => {
    if (!data) return null;
    mark("pane:early-bytes");
    const loading = pdfjsLib.getDocument(documentOptions(config, { data }));
    const content = loading.promise
      .then((pdf) => pdf.getPage(Math.min(n, pdf.numPages)))
      .then((proxy) => proxy.getTextContent());
    content.catch(() => {});
    earlyText.set(url, { page: n, content });
    return loading;
  }).catch(() => null);
  early.set(url, task);
}

// -> Promise<TextContent> | null: the early text of this page of this file, once.
function takeEarlyText(url, page) {
  const found = earlyText.get(url);
  earlyText.delete(url);
  return found && found.page === page ? found.content : null;
}

// -> Promise<loading task | null>; a document that failed to open early is opened again normally.
function takeEarly(url) {
  const task = early.get(url);
  early.delete(url);
  if (!task) return Promise.resolve(null);
  return task.then((loading) => loading && loading.promise.then(() => loading, () => null));
}

// -> Promise<ArrayBuffer | null>: null when the file is read by range (large, or the whole
// request failed: pdf.js then asks again and reports what went wrong).
function wholeFile(url, size) {
  const boot = window.councilReaderBoot;
  const started = boot && boot.take(url);
  if (!started && (!size || size > WHOLE_FILE_MAX)) return Promise.resolve(null);
  const request = started || fetch(url, { credentials: "same-origin" }).then((r) => {
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return r.arrayBuffer();
  });
  return request.catch(() => null);
}

// Performance marks (the benchmark reads where a join's time goes); never fatal.
function mark(name) {
  try { performance.mark(name); } catch { /* old browsers */ }
}

function normalize(text) {
  return text.normalize("NFKC").replace(/\s+/g, "").toLowerCase();
}

export class Pane {
  constructor(root, config, onNavigate) {
    this.root = root;
    this.config = config;
    this.onNavigate = onNavigate; // (pane, userInitiated) => void
    this.scroller = root.querySelector(".pane-scroll");
    this.wrap = root.querySelector(".page-wrap");
    this.canvas = root.querySelector(".page-canvas");
    this.textLayerDiv = root.querySelector(".textLayer");
    this.titleEl = root.querySelector(".pane-title");
    this.changesEl = root.querySelector(".pane-changes");
    this.emptyEl = root.querySelector(".pane-empty");
    this.loadingEl = root.querySelector(".pane-loading");
    this.pdf = null;
    this.loadingTask = null;
    this.documentId = null;
    this.versionId = null;
    this.url = null; // the served file's URL
    this.page = 1;
    this.pageCount = 0;
    this.zoom = 1; // relative to the fit (this.fit(): "width" or "page")
    this.fit = () => "width";
    this.highlight = "";
    this.textLayer = null;
    this.renderSerial = 0;
    this.rendered = Promise.resolve();
    // Pages drawn ahead while the member reads (the next and previous ones), so that a page turn
    // only swaps a finished canvas in: page number -> {page, canvas, scale, key, width, height, proxy}.
    this.ahead = new Map();
    this.aheadJob = null;
    this.aheadTimer = null;
    this.aheadGeneration = 0;
    this.renderJob = null;
    this.shown = null; // the entry on the glass
    // The view's size, kept current without reading layout on a page turn.
    this.viewWidth = this.scroller.clientWidth;
    this.viewHeight = this.scroller.clientHeight;
    if (window.ResizeObserver) {
      new ResizeObserver(() => {
        this.viewWidth = this.scroller.clientWidth;
        this.viewHeight = this.scroller.clientHeight;
      }).observe(this.scroller);
    }
    this.bindGestures();
  }

  get current() {
    return { documentId: this.documentId, versionId: this.versionId, page: this.page };
  }

  async open({ documentId, versionId, url, title, page = 1 }) {
    mark("pane:open");
    if (this.versionId !== versionId) {
      if (this.url && this.url !== url) earlyText.delete(this.url);
      this.url = url;
      if (this.loadingTask) await this.loadingTask.destroy().catch(() => {});
      this.pdf = null;
      this.shown = null;
      this.dropAhead();
      this.documentId = documentId;
      this.versionId = versionId;
      this.titleEl.textContent = title || "";
      // A replaced document (差し替え) says which version this is and what changed.
      const v = this.version || {};
      if (this.changesEl) this.changesEl.textContent = v.number > 1 ? `${v.label} — ${v.changes_text || ""}` : "";
      this.emptyEl.hidden = true;
      this.loadingEl.hidden = false;
      // A small file whole, in one request (perhaps under way or even opened since the page loaded:
      // boot.js), a large one by range.
      try {
        this.loadingTask = await takeEarly(url);
        if (this.versionId !== versionId) return;
        if (!this.loadingTask) {
          const whole = await wholeFile(url, this.version && this.version.size);
          if (this.versionId !== versionId) return;
          this.loadingTask = pdfjsLib.getDocument(documentOptions(this.config, whole ? { data: whole } : { url, withCredentials: true }));
        }
        this.pdf = await this.loadingTask.promise;
        mark("pane:document");
      } finally {
        this.loadingEl.hidden = true;
      }
      this.pageCount = this.pdf.numPages;
      this.zoom = 1;
    }
    this.page = Math.min(Math.max(1, page | 0 || 1), this.pageCount);
    await this.render();
  }

  async goTo(n) {
    if (!this.pdf) return;
    const page = Math.min(Math.max(1, n | 0), this.pageCount);
    if (page === this.page) return;
    this.page = page;
    await this.render();
  }

  setZoom(zoom) {
    const z = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
    if (Math.abs(z - this.zoom) < 0.001) return Promise.resolve();
    this.zoom = z;
    return this.render();
  }

  // The size pages are drawn at while it holds: the view's size, the fit, the zoom and the
  // screen's pixel density. A page drawn ahead under another key is not shown.
  viewKey() {
    return `${this.viewWidth}x${this.viewHeight}|${this.fit()}|${this.zoom}|${window.devicePixelRatio || 1}`;
  }

  scaleFor(base) {
    const width = Math.max(this.viewWidth, 200);
    const height = Math.max(this.viewHeight, 200);
    const fit = this.fit() === "page" ? Math.min(width / base.width, height / base.height) : width / base.width;
    return fit * this.zoom;
  }

  // Shows this.page; resolves once its pixels are on the glass. A page drawn ahead at the current
  // size (the next or previous one) is put there at once, before anything else runs: its canvas
  // takes the shown one's place (the page left is kept as a neighbour), no pixels are copied and
  // nothing waits; a neighbour still being drawn ahead is finished rather than started again. Any
  // other page is drawn off-screen and then swapped in. The next page is then drawn ahead, and the
  // text layer, highlights and overlays ("pane:rendered") follow.
  render() {
    if (!this.pdf) return Promise.resolve();
    const serial = ++this.renderSerial;
    if (this.renderJob) this.cancelJob(this.renderJob);
    this.renderJob = null;
    if (this.textLayer) this.textLayer.cancel();
    this.textLayer = null;
    const turning = this.shown && this.shown.page !== this.page;
    const key = this.viewKey();
    const ready = turning ? this.ahead.get(this.page) : null;
    if (ready && ready.key === key) {
      this.cancelAhead();
      this.show(ready, true);
      this.finish(ready, serial);
      return Promise.resolve();
    }
    const job = this.aheadJob;
    if (turning && job && job.page === this.page && job.key === key) {
      this.cancelAhead(job);
      return job.promise.then((entry) => {
        if (serial !== this.renderSerial) return undefined;
        if (!entry) return this.fullRender(serial);
        this.show(entry, true);
        this.finish(entry, serial);
        return undefined;
      });
    }
    this.cancelAhead();
    return this.fullRender(serial);
  }

  async fullRender(serial) {
    const page = await this.pdf.getPage(this.page);
    mark("pane:page");
    if (serial !== this.renderSerial) return;
    const base = page.getViewport({ scale: 1 });
    // CSSOM, not style attributes: allowed by the strict CSP.
    this.wrap.style.transform = "";
    this.viewWidth = this.scroller.clientWidth;
    this.viewHeight = this.scroller.clientHeight;
    let viewport = page.getViewport({ scale: this.scaleFor(base) });
    this.sizeWrap(viewport.width, viewport.height);
    // A page taller than the screen brings a scroll bar on desktops, which narrows the view: fit again.
    if (this.scroller.clientWidth !== this.viewWidth) {
      this.viewWidth = this.scroller.clientWidth;
      viewport = page.getViewport({ scale: this.scaleFor(base) });
      this.sizeWrap(viewport.width, viewport.height);
    }
    // A page no wider than the view: a sideways finger is ours (swipe to turn), not the browser's pan.
    const wide = viewport.width > this.viewWidth + 2;
    this.scroller.style.touchAction = wide ? "pan-x pan-y" : "pan-y";
    const job = this.drawOffscreen(this.page, this.viewKey(), page);
    this.renderJob = job;
    const entry = await job.promise;
    if (this.renderJob === job) this.renderJob = null;
    if (serial !== this.renderSerial || !entry) {
      if (!entry && !job.cancelled && serial === this.renderSerial) throw job.error || new Error("render failed");
      return;
    }
    this.show(entry, false);
    this.finish(entry, serial);
  }

  sizeWrap(width, height) {
    const w = `${Math.floor(width)}px`;
    const h = `${Math.floor(height)}px`;
    if (this.wrap.style.width !== w) this.wrap.style.width = w;
    if (this.wrap.style.height !== h) this.wrap.style.height = h;
  }

  // Puts a drawn page on the glass: one element swapped, the size set only if it changed, no
  // layout read. "pane:drawn" is the moment the member sees the new page.
  show(entry, fromAhead) {
    const old = this.canvas;
    const left = this.shown;
    if (old !== entry.canvas) {
      entry.canvas.className = old.className;
      old.replaceWith(entry.canvas);
      this.canvas = entry.canvas;
    }
    this.ahead.delete(entry.page);
    // The page left is the previous (or next) one of the page coming: keep its pixels.
    if (left && left.canvas === old && left.key === entry.key && Math.abs(left.page - entry.page) === 1) {
      this.ahead.set(left.page, left);
    }
    if (this.wrap.style.transform) this.wrap.style.transform = "";
    this.sizeWrap(entry.width, entry.height);
    this.wrap.style.setProperty("--scale-factor", String(entry.scale));
    this.textLayerDiv.replaceChildren();
    this.shown = entry;
    this.drawnAt = performance.now();
    mark("pane:drawn");
    this.root.dispatchEvent(new CustomEvent("pane:drawn", {
      bubbles: true,
      detail: { ...this.current, pane: this, at: this.drawnAt, fromAhead },
    }));
  }

  // After the pixels: the next page is drawn ahead first (the next turn is the likely one), then
  // the text layer, the search highlight and the overlays ("pane:rendered"), then the previous page.
  async finish(entry, serial) {
    try {
      await this.drawAhead().next;
      if (serial !== this.renderSerial) return;
      await this.textLayerFor(entry, serial);
    } catch (err) {
      if (serial === this.renderSerial) this.root.dispatchEvent(new CustomEvent("pane:error", { bubbles: true, detail: { error: err } }));
    }
  }

  async textLayerFor(entry, serial) {
    const viewport = entry.proxy.getViewport({ scale: entry.scale });
    const early = takeEarlyText(this.url, entry.page);
    const content = early ? await early.catch(() => null) : null;
    if (serial !== this.renderSerial) return;
    this.textLayer = new pdfjsLib.TextLayer({
      textContentSource: content || entry.proxy.streamTextContent(),
      container: this.textLayerDiv,
      viewport,
    });
    try {
      await this.textLayer.render();
    } catch (err) {
      if (serial !== this.renderSerial) return;
      throw err;
    }
    if (serial !== this.renderSerial) return;
    this.wrap.dataset.page = String(this.page);
    this.applyHighlight();
    this.root.dispatchEvent(new CustomEvent("pane:rendered", {
      bubbles: true,
      detail: { ...this.current, pane: this, width: viewport.width, height: viewport.height, scale: entry.scale },
    }));
  }

  // Draws page n into a canvas of its own (not in the document, so nothing is composited while it
  // draws). Returns a job {page, key, promise -> entry or null, cancelled}.
  drawOffscreen(n, key, proxy = null) {
    const job = { page: n, key, task: null, cancelled: false, error: null };
    const pdf = this.pdf;
    job.promise = (async () => {
      try {
        const page = proxy || await pdf.getPage(n);
        if (job.cancelled) return null;
        const scale = this.scaleFor(page.getViewport({ scale: 1 }));
        const viewport = page.getViewport({ scale });
        const ratio = window.devicePixelRatio || 1;
        const canvas = document.createElement("canvas");
        canvas.width = Math.floor(viewport.width * ratio);
        canvas.height = Math.floor(viewport.height * ratio);
        job.task = page.render({
          canvas,
          viewport,
          transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null,
        });
        await job.task.promise;
        if (job.cancelled) return null;
        return { page: n, canvas, scale, key, width: viewport.width, height: viewport.height, proxy: page };
      } catch (err) {
        if (!(err instanceof pdfjsLib.RenderingCancelledException)) job.error = err;
        return null;
      }
    })();
    return job;
  }

  cancelJob(job) {
    job.cancelled = true;
    if (job.task) job.task.cancel();
  }

  // While the member reads, draw the next and then the previous page off-screen at the size shown
  // now (fetching their bytes and fonts on the way), so that a page turn only swaps a canvas in.
  drawAhead() {
    this.cancelAhead();
    const key = this.viewKey();
    for (const [n, entry] of this.ahead) {
      if (Math.abs(n - this.page) > 1 || entry.key !== key) this.ahead.delete(n);
    }
    const pdf = this.pdf;
    const generation = this.aheadGeneration;
    const wanted = [this.page + 1, this.page - 1].filter((n) => n >= 1 && n <= this.pageCount);
    let nextDone;
    const next = new Promise((resolve) => { nextDone = resolve; });
    const step = () => {
      this.aheadTimer = null;
      const n = wanted.shift();
      if (n === undefined || generation !== this.aheadGeneration || this.pdf !== pdf) { nextDone(); return; }
      if (this.ahead.has(n)) { nextDone(); step(); return; }
      const job = this.drawOffscreen(n, key);
      this.aheadJob = job;
      job.promise.then((entry) => {
        if (this.aheadJob === job) this.aheadJob = null;
        if (entry && this.pdf === pdf && entry.key === this.viewKey() && n !== this.page && Math.abs(n - this.page) === 1) {
          this.ahead.set(n, entry);
        }
        nextDone();
        if (generation === this.aheadGeneration) this.aheadTimer = setTimeout(step, 0);
      });
    };
    step();
    return { next };
  }

  // Stops drawing ahead (a job for the page being turned to may be kept and adopted).
  cancelAhead(keep = null) {
    this.aheadGeneration += 1;
    if (this.aheadTimer) clearTimeout(this.aheadTimer);
    this.aheadTimer = null;
    if (this.aheadJob && this.aheadJob !== keep) this.cancelJob(this.aheadJob);
    this.aheadJob = null;
  }

  dropAhead() {
    this.cancelAhead();
    this.ahead.clear();
  }

  applyHighlight() {
    const layer = this.textLayerDiv;
    layer.querySelectorAll("mark.highlight").forEach((m) => m.replaceWith(...m.childNodes));
    layer.normalize();
    const needle = normalize(this.highlight || "");
    if (!needle) return;
    // Matches may run across spans (pdf.js splits text into runs) and ignore spaces and
    // full-/half-width differences, as the server's search does: search the joined normalized
    // text, remembering for each of its characters the span and the original character.
    const spans = [...layer.querySelectorAll("span")].filter((s) => s.childNodes.length === 1 && s.firstChild.nodeType === 3);
    let joined = "";
    const owner = [];
    spans.forEach((span, i) => {
      const text = span.firstChild.data;
      for (let k = 0; k < text.length; k += 1) {
        const part = normalize(text[k]);
        for (let p = 0; p < part.length; p += 1) owner.push([i, k]);
        joined += part;
      }
    });
    const marks = new Map(); // span index -> [[from, to]] in original characters
    for (let at = joined.indexOf(needle); at !== -1; at = joined.indexOf(needle, at + needle.length)) {
      for (let k = at; k < at + needle.length; k += 1) {
        const [i, c] = owner[k];
        const ranges = marks.get(i) || [];
        const last = ranges[ranges.length - 1];
        if (last && last[1] >= c) last[1] = c + 1;
        else ranges.push([c, c + 1]);
        marks.set(i, ranges);
      }
    }
    for (const [i, ranges] of marks) {
      const node = spans[i].firstChild;
      // From the end, so earlier offsets stay valid.
      for (const [from, to] of ranges.reverse()) {
        const range = document.createRange();
        range.setStart(node, from);
        range.setEnd(node, to);
        const mark = document.createElement("mark");
        mark.className = "highlight";
        range.surroundContents(mark);
      }
    }
    const first = layer.querySelector("mark.highlight");
    if (first) first.scrollIntoView({ block: "center", inline: "nearest" });
  }

  // --- gestures: swipe to turn, pinch to zoom ---------------------------------------------------

  bindGestures() {
    const pointers = new Map();
    let start = null;
    let pinch = null;
    const el = this.scroller;
    el.addEventListener("pointerdown", (e) => {
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (pointers.size === 1) {
        start = { x: e.clientX, y: e.clientY, t: performance.now() };
      } else if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y), zoom: this.zoom, factor: 1 };
        start = null;
      }
    });
    el.addEventListener("pointermove", (e) => {
      if (!pointers.has(e.pointerId)) return;
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (pinch && pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        const distance = Math.hypot(a.x - b.x, a.y - b.y);
        pinch.factor = distance / pinch.distance;
        this.wrap.style.transform = `scale(${pinch.factor})`;
      }
    });
    const end = (e) => {
      if (!pointers.has(e.pointerId)) return;
      pointers.delete(e.pointerId);
      if (pinch && pointers.size < 2) {
        const zoom = pinch.zoom * pinch.factor;
        pinch = null;
        this.setZoom(zoom).then(() => this.onNavigate(this, true));
        return;
      }
      if (start && pointers.size === 0 && e.type === "pointerup") {
        const dx = e.clientX - start.x;
        const dy = e.clientY - start.y;
        const elapsed = performance.now() - start.t;
        const fast = elapsed < 800;
        if (Math.abs(dx) < TAP_PX && Math.abs(dy) < TAP_PX && elapsed < TAP_MS && !e.target.closest("a, button, .annot-overlay.drawing")) {
          // A tap, not a swipe: the reader decides what it means (the centre shows or hides the bar).
          this.root.dispatchEvent(new CustomEvent("pane:tap", { bubbles: true, detail: { pane: this, x: e.clientX, y: e.clientY } }));
        }
        const canPan = this.scroller.scrollWidth > this.scroller.clientWidth + 2;
        if (fast && !canPan && Math.abs(dx) > SWIPE_PX && Math.abs(dx) > 2 * Math.abs(dy)) {
          this.turn(dx < 0 ? 1 : -1, true);
        }
      }
      start = null;
    };
    el.addEventListener("pointerup", end);
    el.addEventListener("pointercancel", end);
    // Ctrl + wheel (trackpad pinch on desktops) zooms too.
    el.addEventListener("wheel", (e) => {
      if (!e.ctrlKey || !this.pdf) return;
      e.preventDefault();
      this.setZoom(this.zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1)).then(() => this.onNavigate(this, true));
    }, { passive: false });
  }

  async turn(delta, userInitiated) {
    if (!this.pdf) return;
    const target = this.page + delta;
    if (target < 1 || target > this.pageCount) return;
    await this.goTo(target);
    this.onNavigate(this, userInitiated);
  }
}
