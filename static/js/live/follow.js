// Follow mode for the reader (loaded by templates/meetings/live/reader_bar.html).
//
// Joining, a member follows the presenter: the reader shows the presented document and page.
// Any navigation of their own (swipe, zoom, another page or document: `reader:navigate` with
// userInitiated) leaves follow mode at once; they read freely and see a large "back to the
// presenter (p. 12)" pill in the reader's bar that returns them in one tap. Annotations never navigate, so pen
// strokes keep follow mode. Rapid page flips are coalesced: while one page is being drawn only
// the latest presented page is kept, so a slow tablet jumps straight to it.
import { LiveSocket } from "./socket.js";

const bar = document.getElementById("live-bar");
const msg = bar.dataset;
const socket = new LiveSocket(bar.dataset.ws);
window.councilLive = socket;

let reader = window.councilReader || null;
let following = true;
let presented = null; // the presenter's {document_id, version_id, page, ...} or null
let wanted = null; // what follow mode still has to draw (only the latest is kept)
let drawing = false;

function statusLabel(status) {
  return msg[`status${status.charAt(0).toUpperCase()}${status.slice(1)}`] || status;
}

function sameDocument(current, p) {
  return current && p && current.versionId === p.version_id;
}

// What the member sees: the last presented page drawn on the reader's canvas, with the members'
// stream sequence number that presented it. Kept on #reader as data-rendered-seq /
// data-rendered-page, in window.councilFollow.rendered ({seq, page, versionId, at: epoch ms}) and
// as a performance mark "follow:drawn:<seq>" (the benchmark and the tests read these).
const follow = { rendered: null };
window.councilFollow = follow;
let drawingFor = null;

function markDrawn(p, at) {
  if (!p || (follow.rendered && follow.rendered.seq === p.seq && follow.rendered.versionId === p.version_id)) return;
  follow.rendered = { seq: p.seq, page: p.page, versionId: p.version_id, at: performance.timeOrigin + at };
  const root = document.getElementById("reader");
  if (root) {
    root.dataset.renderedSeq = String(p.seq);
    root.dataset.renderedPage = String(p.page);
  }
  try { performance.mark(`follow:drawn:${p.seq}`, { startTime: at, detail: { page: p.page } }); } catch { /* old browsers */ }
  document.dispatchEvent(new CustomEvent("follow:drawn", { detail: { ...follow.rendered } }));
}

document.addEventListener("reader:drawn", (e) => {
  const d = e.detail;
  const p = drawingFor;
  if (p && d.page === p.page && d.versionId === p.version_id && reader && d.pane === reader.active) markDrawn(p, d.at);
});

async function drawLatest() {
  if (drawing || !reader) return;
  drawing = true;
  try {
    while (following && wanted) {
      const p = wanted;
      wanted = null;
      drawingFor = p;
      try {
        if (sameDocument(reader.current, p)) await reader.goToPage(p.page);
        else await reader.openDocument({ documentId: p.document_id, versionId: p.version_id, page: p.page });
        // Already on that page (nothing to draw): it is on the glass now.
        if (following && sameDocument(reader.current, p) && reader.current.page === p.page) markDrawn(p, performance.now());
        setFollowText("");
      } catch {
        setFollowText(msg.msgCannotOpen);
      }
    }
  } finally {
    drawing = false;
    drawingFor = null;
  }
}

function setFollowText(extra) {
  const el = bar.querySelector(".live-bar-follow");
  if (!following) {
    el.textContent = "";
    return;
  }
  el.textContent = extra || (presented ? `${msg.msgFollowing} — ${presented.title} (${presented.page}/${presented.page_count})` : msg.msgNothing);
}

function renderBack() {
  const button = bar.querySelector(".live-back");
  button.hidden = following;
  bar.querySelector(".live-pill-following").hidden = !following;
  button.querySelector(".live-back-label").textContent = presented
    ? msg.msgBack.replace("{page}", String(presented.page))
    : msg.msgBackNothing;
  button.querySelector(".live-back-short").textContent = presented ? `↩ ${presented.page}` : "↩";
  bar.dataset.following = String(following);
  document.getElementById("reader")?.classList.toggle("is-reading-alone", !following);
}

function setFollowing(on, page) {
  if (following === on) return;
  following = on;
  socket.send({ type: "follow", following: on, ...(page ? { page } : {}) });
  renderBack();
  setFollowText("");
  if (on && presented) {
    wanted = presented;
    drawLatest();
  }
}

function onPresentation(p, seq) {
  presented = p ? { ...p, seq } : null;
  renderBack();
  setFollowText("");
  if (following && presented) {
    wanted = presented;
    drawLatest();
  }
}

function renderStatus(state) {
  bar.querySelector(".live-bar-sitting").textContent = statusLabel(state.status);
  const item = state.agenda_item;
  bar.querySelector(".live-bar-item").textContent = item ? `${item.label} ${item.title || ""}` : "";
}

socket.addEventListener("state", (e) => {
  renderStatus(e.detail);
  onPresentation(e.detail.presentation, (e.detail.seqs || {}).members ?? e.detail.seq ?? 0);
  if (!following) socket.send({ type: "follow", following: false, ...(reader?.current?.page ? { page: reader.current.page } : {}) });
});
socket.addEventListener("event", (e) => {
  const m = e.detail;
  if (m.type === "session.page" || m.type === "session.agenda") onPresentation(socket.state.presentation, m.seq);
  if (m.type === "session.status" || m.type === "session.agenda") renderStatus(socket.state);
});
socket.addEventListener("status", (e) => {
  const { connected, code } = e.detail;
  const el = bar.querySelector(".live-bar-connection");
  if (connected) el.textContent = "";
  else el.textContent = code === 4401 || code === 4403 ? msg.msgSignedOut : msg.msgReconnecting;
  bar.classList.toggle("is-offline", !connected);
});

document.addEventListener("reader:navigate", (e) => {
  if (e.detail && e.detail.userInitiated) setFollowing(false, e.detail.page);
});
const backButton = bar.querySelector(".live-back");
backButton.addEventListener("click", () => setFollowing(true));
// A finger lifted on the pill is enough: right after a swipe the browser may take the next tap to
// stop the page's momentum and send no click.
backButton.addEventListener("pointerup", (e) => { if (e.pointerType === "touch") setFollowing(true); });
// The pill sits in the reader's one bar, beside the page number.
const slot = document.querySelector(".reader-bar [data-slot=live]");
if (slot) slot.append(bar);

function attach(r) {
  reader = r;
  if (following && presented) {
    wanted = presented;
    drawLatest();
  }
}
if (reader) attach(reader);
else document.addEventListener("reader:ready", () => attach(window.councilReader), { once: true });

// The page as it was presented when this page was made (the socket's state confirms it or moves
// on): joining a sitting in progress, the member's first page does not wait for the socket.
const embedded = (() => {
  const el = document.getElementById("live-presented");
  try { return el ? JSON.parse(el.textContent) : null; } catch { return null; }
})();
if (embedded && embedded.presentation) onPresentation(embedded.presentation, embedded.seq);

renderBack();
socket.start();
