// The member's private annotation layer over the reader's pages: pen (with pressure), highlighter,
// sticky notes, colours, eraser, undo, bookmarks, the annotated-PDF export (export.js), and the notices strip.
//
// Every change goes into the outbox (IndexedDB) first and is sent from there, so writing works the
// same online and offline; the server answers with revisions and, when a note was edited on two
// devices, the conflict copy. Drawing never calls the reader's API and stops its pointer events
// from reaching the reader, so a pen stroke never turns the page or leaves follow mode.
import { csrfToken, outboxAll, outboxPut, setMeta, uuid, wipe } from "../offline/store.js";
import { checkDevice, expiredLocally, flush, prune } from "../offline/sync.js";
import { ExportSheet } from "./export.js";

const root = document.getElementById("annot-layer");
const msg = (name) => root.dataset[name] || "";
// Parts of the layer are moved into the reader's own toolbar and side panel: keep references.
const els = root ? {
  toolbar: root.querySelector(".annot-toolbar"),
  status: root.querySelector(".annot-status"),
  review: root.querySelector(".annot-review"),
  notices: root.querySelector("[data-role=notices]"),
  noticeCount: root.querySelector("[data-role=notice-count]"),
  bookmark: root.querySelector("[data-annot=bookmark]"),
  exportButton: root.querySelector("[data-annot=export]"),
  exportPanel: root.querySelector("#annot-export"),
  dialog: root.querySelector(".annot-dialog"),
  textarea: root.querySelector("#annot-note-text"),
} : {};
const WIDTH = { pen: 0.003, highlighter: 0.02 };

const state = {
  tool: "none",
  colour: "#d32f2f",
  versions: new Map(), // versionId -> {loaded: Promise, items: Map(client_id -> annotation), bookmarks: Set}
  overlays: new Map(), // pane index -> Overlay
  undo: [],
  penSeen: false,
};

// --- data -----------------------------------------------------------------------------------

function versionState(versionId) {
  let vs = state.versions.get(versionId);
  if (!vs) {
    vs = { items: new Map(), bookmarks: new Set(), review: 0 };
    vs.loaded = load(versionId, vs);
    state.versions.set(versionId, vs);
  }
  return vs;
}

async function load(versionId, vs) {
  try {
    const r = await fetch(root.dataset.apiVersion.replace("/0/", `/${versionId}/`), { credentials: "same-origin" });
    if (r.ok) {
      const data = await r.json();
      for (const a of data.annotations) vs.items.set(a.client_id, a);
      vs.bookmarks = new Set(data.bookmarks);
      vs.review = data.review_count || 0;
      vs.document = data.document;
    }
  } catch { /* offline without a packet copy: only what is on this device */ }
  // Changes not yet on the server win over what the server (or the cache) said.
  for (const change of await outboxAll().catch(() => [])) {
    if (change.version !== versionId && !vs.items.has(change.client_id)) continue;
    const known = vs.items.get(change.client_id);
    vs.items.set(change.client_id, { ...(known || {}), ...change, revision: known ? known.revision : 0 });
  }
}

function findAnnotation(clientId) {
  for (const vs of state.versions.values()) {
    if (vs.items.has(clientId)) return vs;
  }
  return null;
}

async function save(a, { record = true, before = null } = {}) {
  const vs = versionState(a.version);
  const now = new Date().toISOString();
  a.updated_at = now;
  vs.items.set(a.client_id, a);
  if (record) state.undo.push({ clientId: a.client_id, before });
  await outboxPut({
    client_id: a.client_id, version: a.version, page: a.page, kind: a.kind, colour: a.colour,
    geometry: a.geometry, text: a.text || "", deleted: Boolean(a.deleted), updated_at: now,
    base_revision: a.revision || 0, queued_at: `${now}-${Math.random()}`,
  });
  redrawAll();
  scheduleFlush();
}

function snapshot(a) {
  return a ? JSON.parse(JSON.stringify(a)) : null;
}

let flushTimer = null;
function scheduleFlush() {
  clearTimeout(flushTimer);
  flushTimer = setTimeout(sendNow, 250);
}

async function sendNow() {
  const queued = await outboxAll().catch(() => []);
  if (!queued.length) return; // nothing to say: keep any other message (revoked, expired …)
  if (!navigator.onLine) {
    status(msg("msgPending"), true);
    return;
  }
  status(msg("msgSaving"));
  await flush(root.dataset.apiSync, applyResult);
  const left = await outboxAll().catch(() => []);
  status(left.length ? msg("msgPending") : msg("msgSaved"), left.length > 0);
}

function applyResult(result, { pending = false } = {}) {
  if (result.revoked) {
    status(msg("msgRevoked"), true);
    return;
  }
  if (!result.annotation) return;
  const server = result.annotation;
  const vs = findAnnotation(server.client_id) || versionState(server.version);
  const local = vs.items.get(server.client_id);
  // A newer local edit is still queued: keep showing it, only learn the new revision.
  vs.items.set(server.client_id, pending && local ? { ...local, revision: server.revision } : { ...(local || {}), ...server });
  if (result.conflict_copy) {
    const copy = result.conflict_copy;
    versionState(copy.version).items.set(copy.client_id, copy);
    status(msg("msgConflict"), true);
  }
  redrawAll();
}

function status(text, warn = false) {
  const el = els.status;
  el.textContent = text;
  el.classList.toggle("offline", warn);
}

// --- drawing ----------------------------------------------------------------------------------

class Overlay {
  constructor(paneIndex) {
    this.paneIndex = paneIndex;
    this.el = document.createElement("div");
    this.el.className = "annot-overlay";
    this.canvas = document.createElement("canvas");
    this.canvas.setAttribute("aria-hidden", "true");
    this.el.append(this.canvas);
    this.notes = document.createElement("div");
    this.el.append(this.notes);
    this.current = null; // {documentId, versionId, page}
    this.stroke = null;
    this.bind();
  }

  attach(host, detail) {
    if (this.el.parentNode !== host) host.append(this.el);
    this.current = { documentId: detail.documentId, versionId: detail.versionId, page: detail.page };
    this.width = detail.width;
    this.height = detail.height;
    this.el.style.width = `${detail.width}px`;
    this.el.style.height = `${detail.height}px`;
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.floor(detail.width * ratio);
    this.canvas.height = Math.floor(detail.height * ratio);
    this.ratio = ratio;
    this.applyTool();
    versionState(detail.versionId).loaded.then(() => {
      this.redraw();
      updatePageControls();
    });
  }

  applyTool() {
    const drawing = ["pen", "highlighter", "note", "eraser"].includes(state.tool);
    this.el.classList.toggle("drawing", drawing);
    this.el.classList.toggle("erasing", state.tool === "eraser");
  }

  items() {
    if (!this.current) return [];
    const vs = state.versions.get(this.current.versionId);
    if (!vs) return [];
    return [...vs.items.values()].filter((a) => a.page === this.current.page && !a.deleted);
  }

  redraw() {
    if (!this.current) return;
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    const items = this.items();
    for (const a of items.filter((x) => x.kind === "highlighter")) this.drawStroke(ctx, a);
    for (const a of items.filter((x) => x.kind === "pen")) this.drawStroke(ctx, a);
    if (this.stroke) this.drawStroke(ctx, this.stroke);
    this.notes.replaceChildren(...items.filter((x) => x.kind === "note").map((a) => this.noteButton(a)));
  }

  drawStroke(ctx, a) {
    const pts = a.geometry.points || [];
    if (!pts.length) return;
    ctx.save();
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = a.colour;
    const base = (a.geometry.width || WIDTH.pen) * this.width;
    if (a.kind === "highlighter") {
      ctx.globalAlpha = 0.35;
      ctx.globalCompositeOperation = "multiply";
      ctx.lineWidth = base;
      ctx.beginPath();
      ctx.moveTo(pts[0][0] * this.width, pts[0][1] * this.height);
      for (const p of pts.slice(1)) ctx.lineTo(p[0] * this.width, p[1] * this.height);
      if (pts.length === 1) ctx.lineTo(pts[0][0] * this.width + 0.1, pts[0][1] * this.height);
      ctx.stroke();
    } else {
      for (let i = 0; i < Math.max(pts.length - 1, 1); i += 1) {
        const p = pts[i];
        const q = pts[i + 1] || [p[0] + 0.0001, p[1], p[2]];
        ctx.lineWidth = Math.max(base * (0.5 + ((p[2] ?? 0.5) + (q[2] ?? 0.5)) / 2), 0.8);
        ctx.beginPath();
        ctx.moveTo(p[0] * this.width, p[1] * this.height);
        ctx.lineTo(q[0] * this.width, q[1] * this.height);
        ctx.stroke();
      }
    }
    ctx.restore();
  }

  noteButton(a) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `annot-note${a.conflict_of ? " conflict" : ""}`;
    b.style.left = `${a.geometry.x * 100}%`;
    b.style.top = `${a.geometry.y * 100}%`;
    b.style.color = a.colour;
    b.textContent = "✎";
    b.title = a.text || "";
    b.setAttribute("aria-label", `${msg("msgNoteLabel")}: ${a.text || ""}`);
    b.dataset.clientId = a.client_id;
    b.addEventListener("pointerdown", (e) => e.stopPropagation());
    b.addEventListener("click", (e) => {
      e.stopPropagation();
      if (state.tool === "eraser") remove(a);
      else editNote(a);
    });
    return b;
  }

  point(e) {
    const rect = this.el.getBoundingClientRect();
    const x = Math.min(Math.max((e.clientX - rect.left) / rect.width, 0), 1);
    const y = Math.min(Math.max((e.clientY - rect.top) / rect.height, 0), 1);
    const pressure = e.pointerType === "pen" && e.pressure > 0 ? e.pressure : 0.5;
    return [Number(x.toFixed(5)), Number(y.toFixed(5)), Number(pressure.toFixed(3))];
  }

  bind() {
    const c = this.canvas;
    // Stop the reader's swipe and pinch handlers (on the scroller) from seeing our pointers.
    // Once a stylus has been used, fingers scroll, swipe and pinch (palm rejection); a second
    // finger cancels a finger stroke so pinch-zoom still works.
    const passThrough = (e) => (state.penSeen && e.pointerType === "touch") || !e.isPrimary;
    const stop = (e) => {
      if (this.el.classList.contains("drawing") && !passThrough(e)) e.stopPropagation();
    };
    c.addEventListener("pointerdown", (e) => {
      if (e.pointerType === "pen") state.penSeen = true;
      if (passThrough(e)) {
        this.stroke = null;
        this.redraw();
        return;
      }
      stop(e);
      if (!this.current || !this.el.classList.contains("drawing")) return;
      e.preventDefault();
      if (state.tool === "note") {
        const [x, y] = this.point(e);
        newNote(this.current, x, y);
        return;
      }
      if (state.tool === "eraser") {
        this.erasing = true;
        this.eraseAt(e);
        c.setPointerCapture(e.pointerId);
        return;
      }
      c.setPointerCapture(e.pointerId);
      this.stroke = {
        client_id: uuid(), version: this.current.versionId, page: this.current.page,
        kind: state.tool, colour: state.colour, text: "", revision: 0,
        geometry: { points: [this.point(e)], width: WIDTH[state.tool] },
      };
    });
    c.addEventListener("pointermove", (e) => {
      if (passThrough(e)) return;
      stop(e);
      if (this.erasing) { this.eraseAt(e); return; }
      if (!this.stroke) return;
      const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
      for (const ev of events.length ? events : [e]) this.stroke.geometry.points.push(this.point(ev));
      this.redraw();
    });
    const end = (e) => {
      if (passThrough(e)) return;
      stop(e);
      this.erasing = false;
      if (!this.stroke) return;
      const stroke = this.stroke;
      this.stroke = null;
      if (stroke.geometry.points.length > 1500) {
        stroke.geometry.points = stroke.geometry.points.filter((_, i, all) => i % 2 === 0 || i === all.length - 1);
      }
      save(stroke);
    };
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
    c.addEventListener("click", stop);
  }

  eraseAt(e) {
    const [x, y] = this.point(e);
    const px = x * this.width;
    const py = y * this.height;
    for (const a of this.items()) {
      if (a.kind === "note") continue;
      const pts = a.geometry.points || [];
      const tolerance = Math.max((a.geometry.width || WIDTH.pen) * this.width, 10);
      for (let i = 0; i < pts.length; i += 1) {
        const p = pts[i];
        const q = pts[i + 1] || p;
        if (distanceToSegment(px, py, p[0] * this.width, p[1] * this.height, q[0] * this.width, q[1] * this.height) < tolerance) {
          remove(a);
          break;
        }
      }
    }
  }
}

function distanceToSegment(px, py, ax, ay, bx, by) {
  const dx = bx - ax;
  const dy = by - ay;
  const len = dx * dx + dy * dy;
  const t = len ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len)) : 0;
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

function redrawAll() {
  for (const overlay of state.overlays.values()) overlay.redraw();
}

function remove(a) {
  const before = snapshot(a);
  save({ ...a, deleted: true }, { before });
}

// --- notes ------------------------------------------------------------------------------------

const dialog = els.dialog;
const textarea = els.textarea;

function askText(initial, canDelete) {
  return new Promise((resolve) => {
    textarea.value = initial || "";
    dialog.querySelector("[data-role=delete]").hidden = !canDelete;
    dialog.returnValue = "";
    const done = () => {
      dialog.removeEventListener("close", done);
      resolve({ action: dialog.returnValue || "cancel", text: textarea.value });
    };
    dialog.addEventListener("close", done);
    dialog.showModal();
    textarea.focus();
  });
}

async function newNote(where, x, y) {
  const { action, text } = await askText("", false);
  if (action !== "save" || !text.trim()) return;
  save({
    client_id: uuid(), version: where.versionId, page: where.page, kind: "note",
    colour: state.colour, text, revision: 0, geometry: { x, y },
  });
}

async function editNote(a) {
  const { action, text } = await askText(a.text, true);
  if (action === "delete") remove(a);
  else if (action === "save" && text !== a.text) save({ ...a, text }, { before: snapshot(a) });
}

function undo() {
  const last = state.undo.pop();
  if (!last) return;
  const vs = findAnnotation(last.clientId);
  if (!vs) return;
  const now = vs.items.get(last.clientId);
  // Undoing an addition deletes it; undoing a change or a deletion restores what was there.
  const restored = last.before ? { ...last.before, revision: now.revision } : { ...now, deleted: true };
  save(restored, { record: false });
}

// --- toolbar ----------------------------------------------------------------------------------

function setTool(tool) {
  state.tool = tool;
  els.toolbar.querySelectorAll("[data-tool]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.tool === tool)));
  for (const overlay of state.overlays.values()) overlay.applyTool();
}

function currentView() {
  const reader = window.councilReader;
  return reader && reader.current && reader.current.versionId ? reader.current : null;
}

async function updatePageControls() {
  const view = currentView();
  const { bookmark, review } = els;
  if (!view) return;
  const vs = versionState(view.versionId);
  await vs.loaded;
  const on = vs.bookmarks.has(view.page);
  bookmark.setAttribute("aria-pressed", String(on));
  bookmark.querySelector(".annot-bookmark-label").textContent = on ? msg("msgBookmarkOn") : msg("msgBookmarkOff");
  if (vs.review) {
    review.hidden = false;
    review.querySelector("a").textContent = msg("msgReview");
  } else {
    review.hidden = true;
  }
}

async function toggleBookmark() {
  const view = currentView();
  if (!view) return;
  if (!navigator.onLine) { status(msg("msgBookmarkOffline"), true); return; }
  const r = await fetch(root.dataset.apiBookmark, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ version: view.versionId, page: view.page }),
  }).catch(() => null);
  if (!r || !r.ok) return;
  const data = await r.json();
  const vs = versionState(view.versionId);
  if (data.bookmarked) vs.bookmarks.add(view.page);
  else vs.bookmarks.delete(view.page);
  updatePageControls();
}

// --- notices strip ------------------------------------------------------------------------------

async function refreshNotices() {
  if (!navigator.onLine) return;
  try {
    const r = await fetch(root.dataset.notices, { credentials: "same-origin", cache: "no-store" });
    if (!r.ok) return;
    const data = await r.json();
    const count = els.noticeCount;
    count.hidden = !data.unread;
    count.textContent = String(data.unread);
    els.notices.classList.toggle("has-unread", Boolean(data.unread));
  } catch { /* try again later */ }
}

// --- the member's own notes in the reader's search --------------------------------------------

function bindNotesSearch() {
  const reader = document.getElementById("reader");
  const form = reader && reader.querySelector(".reader-search");
  const results = reader && reader.querySelector(".reader-search-results");
  if (!form || !results) return;
  const box = document.createElement("section");
  box.className = "annot-search";
  box.hidden = true;
  const heading = document.createElement("h3");
  heading.textContent = msg("msgSearchHeading");
  const list = document.createElement("ol");
  box.append(heading, list);
  results.after(box);
  form.addEventListener("submit", async () => {
    const q = String(new FormData(form).get("q") || "").trim();
    if (!q || !navigator.onLine) { box.hidden = true; return; }
    try {
      const r = await fetch(`${root.dataset.apiNotesSearch}?q=${encodeURIComponent(q)}`, { credentials: "same-origin" });
      if (!r.ok) return;
      const data = await r.json();
      list.replaceChildren(...data.hits.map((hit) => {
        const li = document.createElement("li");
        const b = document.createElement("button");
        b.type = "button";
        b.className = "search-hit";
        const title = document.createElement("strong");
        title.textContent = `${hit.title} — ${msg("msgPage").replace("{page}", hit.page)}`;
        const text = document.createElement("span");
        text.className = "snippet";
        text.textContent = hit.text;
        b.append(title, text);
        b.addEventListener("click", () => {
          const known = window.councilReader && window.councilReader.documents.has(hit.document);
          if (!known) { window.location.href = hit.url; return; }
          window.councilReader.openDocument(
            { documentId: hit.document, versionId: hit.current ? hit.version : undefined, page: hit.page },
            { userInitiated: true },
          );
        });
        li.append(b);
        return li;
      }));
      box.hidden = !data.hits.length;
    } catch { box.hidden = true; }
  });
}

// --- wiring -----------------------------------------------------------------------------------

function place() {
  // Notices belong to the start and notices pages; the reader's bar only carries the unread badge.
  // The pen tools live in the reader's pen panel, which opens over the page and never shrinks it.
  const reader = document.getElementById("reader");
  if (!reader) return;
  const panel = reader.querySelector("#reader-tools");
  const { toolbar, review } = els;
  if (panel) {
    panel.append(toolbar);
    const toggle = reader.querySelector("[data-action=tools]");
    if (toggle) toggle.hidden = false;
  }
  const menu = reader.querySelector("#reader-menu");
  if (menu) menu.insertBefore(review, menu.querySelector(".reader-search"));
  const end = reader.querySelector(".reader-bar [data-slot=end]");
  if (end) end.prepend(els.notices);
  // The export sheet opens over the page, like the reader's own sheets.
  const main = reader.querySelector(".reader-main");
  if (main && els.exportPanel) main.append(els.exportPanel);
}

let exportSheet = null;

function startExport() {
  const view = currentView();
  if (!view || !exportSheet) return;
  const title = (view.title || document.querySelector("#reader .bar-title")?.textContent || "").trim();
  exportSheet.start(view.documentId, title);
}

function onRendered(e) {
  const d = e.detail;
  if (!d || !d.element || !d.versionId) return;
  let overlay = state.overlays.get(d.pane);
  if (!overlay) {
    overlay = new Overlay(d.pane);
    state.overlays.set(d.pane, overlay);
  }
  overlay.attach(d.element, d);
}

async function startOffline() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register(root.dataset.sw, { scope: "/" }).catch(() => {});
  await setMeta("csrf", csrfToken()).catch(() => {});
  if (await expiredLocally().catch(() => false)) {
    await wipe({ keepOutbox: true });
    status(msg("msgExpired"), true);
  }
  const device = await checkDevice(root.dataset.apiDevice);
  if (!device.ok) status(device.reason === "revoked" ? msg("msgRevoked") : msg("msgExpired"), true);
  else {
    const result = await prune(root.dataset.apiPacket).catch(() => null);
    if (result && result.missing) status(msg("msgPacketStale"), true);
  }
}

function init() {
  place();
  if (els.exportPanel) {
    exportSheet = new ExportSheet(els.exportPanel, {
      startUrl: root.dataset.export,
      flush: sendNow,
      // One sheet at a time: the pen panel closes while the export sheet is open.
      beforeOpen: () => window.councilReader?.toggleSheet?.("tools", false),
    });
    // Back to where the member came from: the pen panel's toggle (the panel itself closed).
    els.exportPanel.addEventListener("export:closed", () => {
      const back = document.querySelector("#reader [data-action=tools]") || els.exportButton;
      back?.focus({ preventScroll: true });
    });
  }
  bindNotesSearch();
  els.toolbar.addEventListener("click", handleToolbar);
  document.addEventListener("reader:rendered", onRendered);
  document.addEventListener("reader:navigate", () => updatePageControls());
  window.addEventListener("online", () => { sendNow(); refreshNotices(); startOffline(); });
  window.addEventListener("offline", () => status(msg("msgPending"), true));
  startOffline().finally(() => sendNow());
  refreshNotices();
  setInterval(refreshNotices, 60000);
}

function handleToolbar(e) {
  const tool = e.target.closest("[data-tool]");
  if (tool) {
    setTool(tool.dataset.tool);
    // From the keyboard (no pointer position): a note goes at the top left of the current page.
    const view = currentView();
    if (tool.dataset.tool === "note" && e.detail === 0 && view) {
      newNote({ versionId: view.versionId, page: view.page }, 0.05, 0.05);
    }
    return;
  }
  const swatch = e.target.closest("[data-colour]");
  if (swatch) {
    state.colour = swatch.dataset.colour;
    els.toolbar.querySelectorAll("[data-colour]").forEach((b) => b.setAttribute("aria-pressed", String(b === swatch)));
    return;
  }
  const action = e.target.closest("[data-annot]");
  if (!action) return;
  if (action.dataset.annot === "undo") undo();
  else if (action.dataset.annot === "bookmark") toggleBookmark();
  else if (action.dataset.annot === "export") startExport();
}

if (root) init();
