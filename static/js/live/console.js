// The clerk console: open/recess/resume/close, move through the order of business, choose the
// document and page to present (thumbnail strip), hand presenting over, see who is connected.
// Every button sends one message over the live socket; the screen changes only when the
// server's event comes back (the server owns the state).
import { LiveSocket } from "./socket.js";

const root = document.getElementById("live-console");
const config = JSON.parse(document.getElementById("live-config").textContent);
const documents = new Map(JSON.parse(document.getElementById("live-documents").textContent).map((d) => [d.id, d]));
const msg = root.dataset;
const $ = (selector) => root.querySelector(selector);

const socket = new LiveSocket(config.ws);
window.councilLive = socket;

let state = null;
let thumbsFor = null;

function statusLabel(status) {
  return msg[`status${status.charAt(0).toUpperCase()}${status.slice(1)}`] || status;
}

function thumbUrl(versionId, page) {
  return config.thumbnail.replace("/0/", `/${versionId}/`).replace(/\/1\/thumbnail$/, `/${page}/thumbnail`);
}

function render() {
  if (!state) return;
  root.dataset.status = state.status;
  $(".live-status").textContent = statusLabel(state.status);
  const can = {
    "sitting.open": state.status === "scheduled",
    "sitting.recess": state.status === "open",
    "sitting.resume": state.status === "recess",
    "sitting.close": state.status === "open" || state.status === "recess",
  };
  root.querySelectorAll("[data-command^='sitting.']").forEach((b) => {
    b.disabled = !can[b.dataset.command];
  });
  const item = state.agenda_item;
  root.querySelectorAll(".live-item").forEach((b) => {
    b.setAttribute("aria-pressed", String(Boolean(item && Number(b.dataset.item) === item.id)));
  });
  $(".live-current-item").textContent = item ? `${item.label} ${item.title || ""}` : "";
  root.querySelectorAll(".live-doc").forEach((b) => {
    const items = (b.dataset.items || "").split(",").map(Number);
    b.classList.toggle("is-current-item", Boolean(item && items.includes(item.id)));
  });
  const p = state.presentation;
  $(".live-doc-title").textContent = p ? p.title : msg.msgNothing;
  $(".live-page").textContent = p ? String(p.page) : "–";
  $(".live-page-count").textContent = p ? String(p.page_count) : "–";
  $("#live-goto-page").max = p ? String(p.page_count) : "1";
  root.querySelectorAll("[data-turn]").forEach((b) => {
    const to = p ? p.page + Number(b.dataset.turn) : 0;
    b.disabled = !p || to < 1 || to > p.page_count;
  });
  root.querySelectorAll(".live-doc").forEach((b) => {
    b.setAttribute("aria-current", String(Boolean(p && Number(b.dataset.document) === p.document_id)));
  });
  renderThumbs(p);
  const presenter = state.presenter || {};
  $(".live-presenter").textContent = presenter.default ? msg.msgDefaultPresenter : presenter.name;
}

function renderThumbs(p) {
  const list = $(".live-thumbs");
  const key = p ? p.version_id : null;
  if (key !== thumbsFor) {
    thumbsFor = key;
    list.replaceChildren();
    if (p) {
      for (let n = 1; n <= p.page_count; n += 1) {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "live-thumb";
        button.dataset.page = String(n);
        button.setAttribute("aria-label", `${msg.msgPage} ${n}`);
        const img = document.createElement("img");
        img.loading = "lazy";
        img.alt = "";
        img.src = thumbUrl(p.version_id, n);
        const label = document.createElement("span");
        label.textContent = String(n);
        button.append(img, label);
        li.append(button);
        list.append(li);
      }
    }
  }
  list.querySelectorAll(".live-thumb").forEach((b) => {
    const on = Boolean(p && Number(b.dataset.page) === p.page);
    b.setAttribute("aria-current", on ? "page" : "false");
    if (on) b.scrollIntoView({ block: "nearest", inline: "nearest" });
  });
}

function renderPeople(connections) {
  const list = $(".live-people");
  list.replaceChildren(
    ...connections.map((c) => {
      const li = document.createElement("li");
      li.className = c.following ? "is-following" : "is-reading";
      const name = document.createElement("span");
      name.className = "person";
      name.textContent = `${c.seat_number ? `${c.seat_number}番 ` : ""}${c.name}`;
      const how = document.createElement("span");
      how.className = "follow-state";
      how.textContent = c.following ? msg.msgFollowing : `${msg.msgReading}${c.page ? ` (${msg.msgPage} ${c.page})` : ""}`;
      const where = document.createElement("span");
      where.className = "where";
      where.textContent = c.where === "online" ? msg.msgOnline : c.where === "room" ? msg.msgRoom : "";
      li.append(name, " ", where, " ", how);
      return li;
    }),
  );
  $(".live-people-count").textContent = `(${connections.length})`;
}

function showError(text) {
  const el = $(".live-error");
  el.textContent = text || "";
}

function send(message) {
  showError("");
  if (socket.send(message) === null) showError(msg.msgReconnecting);
}

// Page turns: the page asked for moves at once (holding an arrow key flips through the pages),
// but at most one turn is sent every TURN_INTERVAL_MS, always the latest, so a held key never
// floods the socket (the server answers a flood with an error and then silence).
const TURN_INTERVAL_MS = 120;
let requested = null; // {page, version_id}: asked for, not yet confirmed by the server
let unsent = null;
let turnTimer = null;
let lastTurnAt = -Infinity;

function turnTo(page, versionId) {
  requested = { page, version_id: versionId };
  unsent = requested;
  if (turnTimer !== null) return;
  turnTimer = setTimeout(sendTurn, Math.max(0, lastTurnAt + TURN_INTERVAL_MS - performance.now()));
}

function sendTurn() {
  turnTimer = null;
  if (!unsent) return;
  lastTurnAt = performance.now();
  send({ type: "page.turn", page: unsent.page, version_id: unsent.version_id });
  unsent = null;
}

// The page to count from: the one asked for while the server has not yet confirmed it (for two
// seconds at most: another presenter may have moved on meanwhile), else the presented page.
function currentPage(p) {
  const fresh = performance.now() - lastTurnAt < 2000 || unsent;
  return requested && fresh && requested.version_id === p.version_id ? requested.page : p.page;
}

function settleTurns() {
  if (unsent) return;
  const p = state?.presentation;
  if (!p || !requested || requested.version_id !== p.version_id || p.page === requested.page) requested = null;
}

socket.addEventListener("state", (e) => {
  state = e.detail;
  settleTurns();
  render();
  send({ type: "presence.list" });
});
socket.addEventListener("event", (e) => {
  const m = e.detail;
  if (m.type === "presence.changed") renderPeople(m.payload.connections || []);
  else {
    settleTurns();
    render();
  }
});
socket.addEventListener("reply", (e) => {
  const m = e.detail;
  if (m.type === "error") {
    if (m.for === "page.turn" && !unsent) requested = null;
    showError(m.message);
  }
  else if (m.type === "presence") renderPeople(m.connections || []);
});
socket.addEventListener("status", (e) => {
  const { connected, code } = e.detail;
  const el = $(".live-connection");
  if (connected) el.textContent = msg.msgConnected;
  else if (code === 4401 || code === 4403) el.textContent = msg.msgSignedOut;
  else el.textContent = msg.msgReconnecting;
  root.classList.toggle("is-offline", !connected);
});

root.addEventListener("click", (e) => {
  const command = e.target.closest("[data-command]");
  if (command) {
    send({ type: command.dataset.command });
    return;
  }
  const item = e.target.closest(".live-item");
  if (item) {
    send({ type: "agenda.move", agenda_item_id: Number(item.dataset.item) });
    return;
  }
  const doc = e.target.closest(".live-doc");
  if (doc) {
    send({ type: "document.present", document_id: Number(doc.dataset.document), page: 1 });
    return;
  }
  const thumb = e.target.closest(".live-thumb");
  if (thumb && state?.presentation) {
    turnTo(Number(thumb.dataset.page), state.presentation.version_id);
    return;
  }
  const turn = e.target.closest("[data-turn]");
  if (turn && state?.presentation) {
    const p = state.presentation;
    const page = currentPage(p) + Number(turn.dataset.turn);
    if (page >= 1 && page <= p.page_count) turnTo(page, p.version_id);
  }
});

$(".live-goto").addEventListener("submit", (e) => {
  e.preventDefault();
  const page = Number($("#live-goto-page").value);
  if (state?.presentation && page) turnTo(page, state.presentation.version_id);
});

$(".live-handover").addEventListener("submit", (e) => {
  e.preventDefault();
  send({ type: "presenter.handover", user_id: Number($("#live-handover-to").value) });
});

// Arrow keys and Page Up/Down turn pages when the focus is not in a field.
document.addEventListener("keydown", (e) => {
  if (!state?.presentation || e.target.closest("input, select, textarea")) return;
  const delta = { ArrowRight: 1, PageDown: 1, ArrowLeft: -1, PageUp: -1 }[e.key];
  if (!delta) return;
  const p = state.presentation;
  const page = currentPage(p) + delta;
  e.preventDefault();
  if (page >= 1 && page <= p.page_count) turnTo(page, p.version_id);
});

// Documents are known to the page; keep the unused map referenced for future filters.
void documents;
socket.start();
