// The public view (傍聴) and the chamber display: the current item, the current page of public
// documents (drawn with the reader's pdf.js pane), the speaker and declared results. The public
// stream only ever carries public-safe data; a closed session (秘密会) arrives as a blank.
import { Pane, configurePdfjs } from "../reader/pane.js";
import { LiveSocket } from "./socket.js";

const root = document.getElementById("live-public");
const config = JSON.parse(document.getElementById("live-config").textContent);
const msg = root.dataset;
const $ = (selector) => root.querySelector(selector);

configurePdfjs(config);
const paneEl = $(".live-pane");
const pane = new Pane(paneEl, config, () => {});
const socket = new LiveSocket(config.ws);

const display = root.classList.contains("live-display");
let wanted = null;
let drawing = false;

function statusLabel(status) {
  return msg[`status${status.charAt(0).toUpperCase()}${status.slice(1)}`] || status;
}

async function drawLatest() {
  if (drawing) return;
  drawing = true;
  try {
    while (wanted) {
      const p = wanted;
      wanted = null;
      const url = config.file.replace("/0/", `/${p.version_id}/`);
      try {
        if (pane.versionId === p.version_id) await pane.goTo(p.page);
        else await pane.open({ documentId: p.document_id, versionId: p.version_id, url, title: p.title, page: p.page });
        if (display) await fitWholePage();
      } catch {
        // Leave the previous page up; the next event or state retries.
      }
    }
  } finally {
    drawing = false;
  }
}

// The chamber display shows the whole page on the screen (fit to height when the page is tall).
async function fitWholePage() {
  // The pane draws a page at the scroller's width (its zoom 1); narrowing the scroller to the
  // page's proportions at the height available makes the whole page fit, on any screen.
  const scroller = paneEl.querySelector(".pane-scroll");
  const wrap = paneEl.querySelector(".page-wrap");
  const box = wrap.getBoundingClientRect();
  if (!box.height || !box.width || !scroller.clientHeight) return;
  const aspect = box.width / box.height;
  const width = Math.floor(Math.min(paneEl.clientWidth, (scroller.clientHeight - 16) * aspect + 16));
  const changed = Math.abs(scroller.getBoundingClientRect().width - width) > 2;
  if (changed) scroller.style.width = `${width}px`;
  if (pane.zoom !== 1) await pane.setZoom(1);
  else if (changed) await pane.render();
}

// On the display the space for the page changes (a window resize, a result or speaker line
// appearing): fit the page again so it is always whole on the one screen.
if (display && "ResizeObserver" in window) {
  let queued = false;
  const refit = () => {
    if (queued || !pane.pdf) return;
    queued = true;
    requestAnimationFrame(async () => {
      queued = false;
      try {
        await fitWholePage();
      } catch {
        // the next change refits
      }
    });
  };
  const observer = new ResizeObserver(refit);
  observer.observe(paneEl);
  observer.observe(paneEl.querySelector(".pane-scroll"));
}

function render() {
  const state = socket.state;
  if (!state) return;
  $(".live-status").textContent = statusLabel(state.status);
  const item = state.agenda_item;
  const closed = Boolean(item && item.closed_session);
  root.classList.toggle("is-closed-session", closed);
  $(".live-item").textContent = item ? (closed ? `${item.label} — ${msg.msgClosedSession}` : `${item.label} ${item.title || ""}`) : "";
  const p = state.presentation;
  $(".live-blank").hidden = Boolean(p);
  paneEl.hidden = !p;
  if (!p) {
    $(".live-blank").textContent = closed ? msg.msgClosedSession : (state.status === "open" || state.status === "recess" ? msg.msgNothing : msg.msgNotOpen);
    wanted = null;
  } else {
    $(".live-page-of").textContent = `${p.page} / ${p.page_count}`;
    wanted = p;
    drawLatest();
  }
  const floor = (state.parts || {}).floor || {};
  const speaker = floor.speaker;
  const who = speaker?.person;
  $(".live-speaker").textContent = who ? `${msg.msgSpeaker}: ${who.seat ? `${who.seat}番 ` : ""}${who.title ? `${who.title} ` : ""}${who.name}` : "";
  renderPoll(((state.parts || {}).poll || {}).poll);
}

function renderPoll(poll) {
  const el = $(".live-result");
  if (!poll) {
    el.hidden = true;
    return;
  }
  el.hidden = false;
  if (poll.state === "open" || poll.state === "counting") {
    el.textContent = `${msg.msgVoting} ${poll.motion || ""}`;
  } else if (poll.outcome_label) {
    const counts = poll.yes !== undefined && poll.yes !== null ? ` (${msg.msgYes} ${poll.yes} / ${msg.msgNo} ${poll.no})` : "";
    el.textContent = `${msg.msgResult}: ${poll.motion || ""} — ${poll.outcome_label}${counts}`;
  } else {
    el.hidden = true;
  }
}

socket.addEventListener("state", render);
socket.addEventListener("event", render);
socket.addEventListener("status", (e) => {
  $(".live-connection").textContent = e.detail.connected ? "" : msg.msgReconnecting;
});
window.addEventListener("resize", () => pane.pdf && pane.render());
socket.start();
