// The tablet reader: the document fills the screen (one or two pdf.js panes) under one thin bar
// (menu, page n / N, live pill, tools); the order of business, pen tools and page thumbnails open
// as sheets over the page and never shrink it while closed. A tap in the middle of the page hides
// and shows the bar.
//
// Stable hooks (tests and the accessibility helper drive these):
//   #reader-bar [data-action=menu|prev|next|tools|thumbs], #reader-page-input, .reader-page-count
//   #reader-menu (drawer: .reader-item, .reader-doc, #reader-search-q, [data-action=fit-page|fit-width|
//     zoom-in|zoom-out|split|menu-close]), #reader-tools (pen panel), #reader-thumbs-sheet
//   #reader.is-immersive while the bar is hidden; .reader-pane.is-active .page-canvas
//
// Public API, for the live-session follow bar and the annotation layer:
//   window.councilReader (set before the document event "reader:ready" is dispatched)
//   reader.openDocument({documentId, versionId?, page?}) -> Promise
//   reader.goToPage(n) -> Promise
//   reader.current -> {documentId, versionId, page}          (the active pane)
//   reader.versionUrl(versionId) -> served-file URL or null
// Events on `document`:
//   "reader:navigate" {documentId, versionId, page, userInitiated, pane} whenever the view changes;
//     userInitiated is true for the member's own swipes, zooms, page turns and document choices,
//     false when code called the API.
//   "reader:drawn" {documentId, versionId, page, pane, at, fromAhead} as soon as a page's pixels are
//     on its canvas (at: performance.now(); fromAhead: copied from a page drawn ahead);
//   "reader:rendered" {documentId, versionId, page, pane, element, width, height, scale} after a
//     page is drawn (element: the page box holding canvas and text layer, for overlays).
import { Pane, configurePdfjs } from "./pane.js";
import { Search } from "./search.js";
import { Thumbnails } from "./thumbs.js";

function readJson(id, fallback) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : fallback;
}

const FIT_KEY = "council-reader-fit";

// The member's fit: "page" or "width", kept on this device; unset, a portrait A4 page is shown
// whole on an upright tablet and at full width (scrolling down) on a sideways one.
function storedFit() {
  try { return localStorage.getItem(FIT_KEY) || ""; } catch { return ""; }
}

function urlFrom(template, replacements) {
  let url = template;
  for (const [from, to] of replacements) url = url.replace(from, to);
  return url;
}

class Reader {
  constructor(root) {
    this.root = root;
    this.config = readJson("reader-config", {});
    this.agenda = readJson("reader-agenda", []);
    this.documents = new Map(readJson("reader-documents", []).map((d) => [d.id, d]));
    this.csrf = root.dataset.csrf || "";
    this.sittingId = root.dataset.sittingId ? Number(root.dataset.sittingId) : null;
    configurePdfjs(this.config);
    const navigate = (pane, userInitiated) => this.navigated(pane, userInitiated);
    this.panes = [...root.querySelectorAll(".reader-pane")].map((el) => new Pane(el, this.config, navigate));
    this.fitChoice = storedFit();
    // Kept from resize events: reading window.innerWidth while drawing would force a layout.
    this.landscape = window.innerWidth > window.innerHeight;
    this.panes.forEach((p) => { p.fit = () => this.fitMode(); });
    this.titleEl = root.querySelector(".bar-title");
    this.active = 0;
    this.split = false;
    this.opened = new Set();
    this.pageInput = root.querySelector(".reader-page-input");
    this.pageCountEl = root.querySelector(".reader-page-count");
    this.thumbs = new Thumbnails(root.querySelector(".reader-thumbs"), this.config, (n) => this.userGoTo(n));
    this.search = new Search(root, this.config, (hit) => this.openHit(hit));
    this.bind();
  }

  // --- API ----------------------------------------------------------------------------------

  get current() {
    return this.panes[this.active].current;
  }

  versionUrl(versionId) {
    for (const doc of this.documents.values()) {
      const v = doc.versions.find((x) => x.id === Number(versionId));
      if (v) return v.url;
    }
    return null;
  }

  openDocument({ documentId, versionId, page = 1, highlight = "" }, { userInitiated = false, pane = null } = {}) {
    const index = pane ?? this.active;
    const target = this.panes[index];
    let doc = this.documents.get(Number(documentId));
    if (!doc && versionId) {
      // A document outside this sitting (e.g. from search): its served URL follows the pattern.
      doc = { id: Number(documentId), title: "", versions: [{ id: Number(versionId), number: 0 }] };
    }
    if (!doc) return Promise.reject(new Error(`unknown document ${documentId}`));
    const version = versionId
      ? doc.versions.find((v) => v.id === Number(versionId)) || { id: Number(versionId) }
      : doc.versions[0];
    const url = version.url || urlFrom(this.config.file, [["/0/", `/${version.id}/`]]);
    target.highlight = highlight;
    target.version = version;
    this.setActive(index);
    return target
      .open({ documentId: doc.id, versionId: version.id, url, title: doc.title, page })
      .then(() => {
        this.markOpened(doc.id, version.id);
        this.navigated(target, userInitiated);
      });
  }

  fitMode() {
    if (this.fitChoice === "page" || this.fitChoice === "width") return this.fitChoice;
    return this.landscape ? "width" : "page";
  }

  setFit(mode) {
    this.fitChoice = mode;
    try { localStorage.setItem(FIT_KEY, mode); } catch { /* private mode: this visit only */ }
    this.panes.forEach((p) => { p.zoom = 1; });
    this.updateToolbar();
    return Promise.all(this.panes.map((p) => p.pdf && p.render()));
  }

  // --- chrome: the bar and the sheets ---------------------------------------------------------

  setImmersive(on) {
    this.root.classList.toggle("is-immersive", on);
    if (on) this.closeSheets();
  }

  sheet(name) {
    return {
      menu: [this.root.querySelector("#reader-menu"), this.root.querySelector("[data-action=menu]"), "aria-expanded"],
      tools: [this.root.querySelector("#reader-tools"), this.root.querySelector("[data-action=tools]"), "aria-pressed"],
      thumbs: [this.root.querySelector("#reader-thumbs-sheet"), this.root.querySelector("[data-action=thumbs]"), "aria-pressed"],
      chamber: [this.root.querySelector("#chamber-sheet"), this.root.querySelector("[data-action=chamber]"), "aria-expanded"],
    }[name];
  }

  toggleSheet(name, on) {
    const [panel, toggle, attr] = this.sheet(name) || [];
    if (!panel) return;
    const open = on ?? panel.hidden;
    // One sheet at a time, so sheets never pile up over the page.
    if (open) ["menu", "tools", "thumbs", "chamber"].filter((n) => n !== name).forEach((n) => this.toggleSheet(n, false));
    if (panel.hidden === !open) return;
    panel.hidden = !open;
    if (toggle) toggle.setAttribute(attr, String(open));
    if (open) this.root.classList.remove("is-immersive");
    if (name === "tools" && !open) {
      // Closing the pen panel goes back to reading, so a swipe turns the page again.
      const read = panel.querySelector("[data-tool=none]");
      if (read && read.getAttribute("aria-pressed") !== "true") read.click();
    }
    if (name === "thumbs" && open) this.thumbs.show(this.panes[this.active], { force: true });
    if (name === "menu" && open) {
      const first = panel.querySelector(".reader-doc[aria-current=true], .reader-item, a, button");
      if (first) first.focus({ preventScroll: true });
    }
    if (name === "menu" && !open && toggle && panel.contains(document.activeElement)) toggle.focus();
  }

  closeSheets() {
    ["menu", "tools", "thumbs", "chamber"].forEach((n) => this.toggleSheet(n, false));
  }

  goToPage(n, { userInitiated = false } = {}) {
    const pane = this.panes[this.active];
    return pane.goTo(Number(n)).then(() => this.navigated(pane, userInitiated));
  }

  // --- internals ------------------------------------------------------------------------------

  userGoTo(n) {
    return this.goToPage(n, { userInitiated: true });
  }

  setActive(index) {
    this.active = index;
    this.panes.forEach((p, i) => p.root.classList.toggle("is-active", i === index));
    this.updateToolbar();
  }

  setSplit(on) {
    this.split = on;
    this.root.classList.toggle("is-split", on);
    const toggle = this.root.querySelector("[data-action=split]");
    if (toggle) toggle.setAttribute("aria-pressed", String(on));
    this.panes[1].root.hidden = !on;
    if (!on) this.setActive(0);
    else this.setActive(1);
    // Widths changed: redraw what is open.
    this.panes.forEach((p) => p.pdf && p.render());
  }

  navigated(pane, userInitiated) {
    this.updateToolbar();
    const index = this.panes.indexOf(pane);
    if (index === this.active) this.thumbs.show(pane);
    document.dispatchEvent(new CustomEvent("reader:navigate", {
      detail: { ...pane.current, userInitiated: Boolean(userInitiated), pane: index },
    }));
  }

  updateToolbar() {
    const pane = this.panes[this.active];
    if (this.pageInput) {
      this.pageInput.value = pane.pdf ? String(pane.page) : "";
      this.pageInput.max = String(pane.pageCount || 1);
    }
    if (this.pageCountEl) this.pageCountEl.textContent = pane.pdf ? String(pane.pageCount) : "–";
    this.root.classList.toggle("has-document", this.panes.some((p) => p.pdf));
    if (this.titleEl) {
      const doc = this.documents.get(pane.documentId);
      this.titleEl.textContent = (doc && doc.title) || pane.titleEl.textContent || "";
    }
    const fit = this.fitMode();
    this.root.querySelectorAll("[data-action=fit-page], [data-action=fit-width]").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.action === `fit-${fit}`));
    });
    this.root.dataset.fit = fit;
    this.root.querySelectorAll(".reader-doc").forEach((b) => {
      const on = this.panes.some((p) => p.documentId === Number(b.dataset.document));
      b.setAttribute("aria-current", on ? "true" : "false");
    });
  }

  markOpened(documentId, versionId) {
    if (this.opened.has(versionId) || !this.config.opened || !this.csrf) return;
    this.opened.add(versionId);
    this.root.querySelectorAll(`.reader-doc[data-document="${documentId}"] .badge`).forEach((b) => b.remove());
    fetch(urlFrom(this.config.opened, [["/0/", `/${versionId}/`]]), {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": this.csrf },
    }).catch(() => {});
  }

  openHit(hit) {
    return this.openDocument(
      { documentId: hit.document, versionId: hit.version, page: hit.page, highlight: hit.query },
      { userInitiated: true },
    );
  }

  selectItem(itemId) {
    this.root.querySelectorAll(".reader-item").forEach((b) => {
      b.setAttribute("aria-expanded", String(Number(b.dataset.item) === itemId));
    });
    const item = this.agenda.find((i) => i.id === itemId);
    if (item && item.documents.length) {
      this.toggleSheet("menu", false);
      this.openDocument({ documentId: item.documents[0] }, { userInitiated: true });
    }
  }

  bind() {
    const root = this.root;
    root.addEventListener("click", (e) => {
      const item = e.target.closest(".reader-item");
      if (item) { this.selectItem(Number(item.dataset.item)); return; }
      const doc = e.target.closest(".reader-doc");
      if (doc) {
        e.preventDefault();
        this.toggleSheet("menu", false);
        this.openDocument({ documentId: Number(doc.dataset.document) }, { userInitiated: true });
        return;
      }
      const button = e.target.closest("[data-action]");
      if (!button) return;
      const pane = this.panes[this.active];
      const action = button.dataset.action;
      if (action === "prev") pane.turn(-1, true);
      else if (action === "next") pane.turn(1, true);
      else if (action === "zoom-in") pane.setZoom(pane.zoom * 1.25).then(() => this.navigated(pane, true));
      else if (action === "zoom-out") pane.setZoom(pane.zoom / 1.25).then(() => this.navigated(pane, true));
      else if (action === "fit-page" || action === "fit-width") this.setFit(action.slice(4)).then(() => this.navigated(pane, true));
      else if (action === "split") this.setSplit(!this.split);
      else if (action === "menu") this.toggleSheet("menu");
      else if (action === "open-documents") this.toggleSheet("menu", true);
      else if (action === "menu-close") this.toggleSheet("menu", false);
      else if (action === "tools") this.toggleSheet("tools");
      else if (action === "thumbs") this.toggleSheet("thumbs");
      else if (action === "chamber") this.toggleSheet("chamber");
    });
    // The chamber sheet's toggle comes with the live parts (outside this root's bar at first).
    document.addEventListener("click", (e) => {
      if (root.contains(e.target)) return;
      const button = e.target.closest("[data-action=chamber]");
      if (button) this.toggleSheet("chamber");
    });
    root.addEventListener("pane:tap", (e) => {
      const { x, y } = e.detail;
      const w = window.innerWidth;
      const h = window.innerHeight;
      const centre = x > w * 0.25 && x < w * 0.75 && y > h * 0.2 && y < h * 0.8;
      // A tap on the page closes an open sheet first (the pen panel stays: the page is its canvas).
      const open = ["menu", "thumbs", "chamber"].filter((n) => { const s = this.sheet(n); return s && s[0] && !s[0].hidden; });
      if (open.length) { open.forEach((n) => this.toggleSheet(n, false)); return; }
      if (centre) this.setImmersive(!root.classList.contains("is-immersive"));
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") this.closeSheets();
      // The keyboard brings the bar back (a hidden bar cannot take focus).
      if ((e.key === "Escape" || e.key === "Tab") && root.classList.contains("is-immersive")) this.setImmersive(false);
    });
    this.panes.forEach((pane, i) => {
      pane.root.addEventListener("pointerdown", () => { if (i !== this.active) this.setActive(i); });
      pane.root.addEventListener("focusin", () => { if (i !== this.active) this.setActive(i); });
    });
    this.root.querySelector("#reader-menu")?.addEventListener("click", (e) => {
      if (e.target.closest(".search-hit")) this.toggleSheet("menu", false);
    });
    const form = root.querySelector(".reader-goto");
    if (form) {
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        this.userGoTo(Number(this.pageInput.value));
      });
    }
    root.addEventListener("pane:drawn", (e) => {
      const { pane, ...rest } = e.detail;
      document.dispatchEvent(new CustomEvent("reader:drawn", { detail: { ...rest, pane: this.panes.indexOf(pane) } }));
    });
    root.addEventListener("pane:rendered", (e) => {
      const { pane, ...rest } = e.detail;
      document.dispatchEvent(new CustomEvent("reader:rendered", {
        detail: { ...rest, pane: this.panes.indexOf(pane), element: pane.wrap },
      }));
    });
    document.addEventListener("keydown", (e) => {
      if (e.target.closest("input, textarea, select, [contenteditable]")) return;
      const pane = this.panes[this.active];
      if (e.key === "ArrowRight" || e.key === "PageDown") { pane.turn(1, true); e.preventDefault(); }
      if (e.key === "ArrowLeft" || e.key === "PageUp") { pane.turn(-1, true); e.preventDefault(); }
    });
    let width = window.innerWidth;
    let height = window.innerHeight;
    window.addEventListener("resize", () => {
      this.landscape = window.innerWidth > window.innerHeight;
      // Turning the tablet (or the fit-to-page height changing); small changes (a browser's
      // address bar) are not worth a redraw.
      if (Math.abs(window.innerWidth - width) < 40 && Math.abs(window.innerHeight - height) < 40) return;
      width = window.innerWidth;
      height = window.innerHeight;
      this.updateToolbar();
      this.panes.forEach((p) => p.pdf && p.render());
    });
  }

  start() {
    const params = new URLSearchParams(window.location.search);
    const documentId = Number(params.get("document") || this.root.dataset.document || 0);
    if (documentId) {
      return this.openDocument({
        documentId,
        versionId: Number(params.get("version") || 0) || undefined,
        page: Number(params.get("page") || 1),
        highlight: params.get("q") || "",
      });
    }
    return Promise.resolve();
  }
}

try { performance.mark("reader:module"); } catch { /* old browsers */ }
const root = document.getElementById("reader");
if (root) {
  const reader = new Reader(root);
  window.councilReader = reader;
  document.dispatchEvent(new CustomEvent("reader:ready", { detail: { reader } }));
  reader.start().catch((err) => {
    root.classList.add("has-error");
    const status = root.querySelector(".reader-status");
    if (status) status.textContent = root.dataset.msgError || String(err);
  });
}
