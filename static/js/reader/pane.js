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
  configured = true;
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
    this.page = 1;
    this.pageCount = 0;
    this.zoom = 1; // relative to the fit (this.fit(): "width" or "page")
    this.fit = () => "width";
    this.highlight = "";
    this.renderTask = null;
    this.textLayer = null;
    this.renderSerial = 0;
    this.rendered = Promise.resolve();
    // Pages drawn ahead while the member reads (the next and previous ones), so that a page turn
    // only copies finished pixels: page number -> {canvas, scale, ratio, width, height}.
    this.ahead = new Map();
    this.aheadTask = null;
    this.aheadTimer = null;
    this.bindGestures();
  }

  get current() {
    return { documentId: this.documentId, versionId: this.versionId, page: this.page };
  }

  async open({ documentId, versionId, url, title, page = 1 }) {
    if (this.versionId !== versionId) {
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
      // Range loading: only the bytes of the pages drawn are fetched (the server sends
      // Accept-Ranges and no content encoding; the served copy is linearized).
      this.loadingTask = pdfjsLib.getDocument({
        url,
        withCredentials: true,
        cMapUrl: this.config.cmaps,
        cMapPacked: true,
        standardFontDataUrl: this.config.fonts,
        wasmUrl: this.config.wasm, // JPEG 2000 and JBIG2 decoders (scanned packets)
        isEvalSupported: false,
        disableAutoFetch: true,
        disableStream: true,
        rangeChunkSize: 65536,
        enableXfa: false,
      });
      try {
        this.pdf = await this.loadingTask.promise;
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

  async render() {
    if (!this.pdf) return;
    const serial = ++this.renderSerial;
    this.cancelAhead();
    if (this.renderTask) this.renderTask.cancel();
    if (this.textLayer) this.textLayer.cancel();
    const page = await this.pdf.getPage(this.page);
    if (serial !== this.renderSerial) return;
    const base = page.getViewport({ scale: 1 });
    const scaleFor = () => {
      const width = Math.max(this.scroller.clientWidth, 200);
      const height = Math.max(this.scroller.clientHeight, 200);
      const fit = this.fit() === "page" ? Math.min(width / base.width, height / base.height) : width / base.width;
      return fit * this.zoom;
    };
    let scale = scaleFor();
    let viewport = page.getViewport({ scale });
    // CSSOM, not style attributes: allowed by the strict CSP.
    this.wrap.style.width = `${Math.floor(viewport.width)}px`;
    this.wrap.style.height = `${Math.floor(viewport.height)}px`;
    // A page taller than the screen brings a scroll bar on desktops, which narrows the view: fit again.
    const again = scaleFor();
    if (Math.abs(again - scale) > 0.0005) {
      scale = again;
      viewport = page.getViewport({ scale });
      this.wrap.style.width = `${Math.floor(viewport.width)}px`;
      this.wrap.style.height = `${Math.floor(viewport.height)}px`;
    }
    // A page no wider than the view: a sideways finger is ours (swipe to turn), not the browser's pan.
    const wide = viewport.width > this.scroller.clientWidth + 2;
    this.scroller.style.touchAction = wide ? "pan-x pan-y" : "pan-y";
    const ratio = window.devicePixelRatio || 1;
    const shown = this.shown;
    if (shown && shown.page !== this.page && !this.ahead.has(shown.page) && shown.ratio === ratio
        && Math.abs(shown.scale - scale) < 0.0005 && Math.abs(shown.page - this.page) === 1 && this.canvas.width > 0) {
      // The page being left is the previous (or next) one of the page coming: keep its pixels.
      const copy = document.createElement("canvas");
      copy.width = this.canvas.width;
      copy.height = this.canvas.height;
      copy.getContext("2d").drawImage(this.canvas, 0, 0);
      this.ahead.set(shown.page, { canvas: copy, scale, ratio });
    }
    this.shown = null;
    const ready = this.ahead.get(this.page);
    const blit = Boolean(ready && Math.abs(ready.scale - scale) < 0.0005 && ready.ratio === ratio);
    this.wrap.style.transform = "";
    this.wrap.style.setProperty("--scale-factor", String(scale));
    if (blit) {
      // Drawn ahead at this very size: copy the pixels, no rasterizing on the turn.
      this.canvas.width = ready.canvas.width;
      this.canvas.height = ready.canvas.height;
      this.canvas.getContext("2d").drawImage(ready.canvas, 0, 0);
    } else {
      this.canvas.width = Math.floor(viewport.width * ratio);
      this.canvas.height = Math.floor(viewport.height * ratio);
      this.renderTask = page.render({
        canvas: this.canvas,
        viewport,
        transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null,
      });
      try {
        await this.renderTask.promise;
      } catch (err) {
        if (err instanceof pdfjsLib.RenderingCancelledException) return;
        throw err;
      }
      if (serial !== this.renderSerial) return;
    }
    // The page is on the canvas (its text layer follows): "pane:drawn" is the moment the member
    // sees the new page.
    this.drawnAt = performance.now();
    this.shown = { page: this.page, scale, ratio };
    this.root.dispatchEvent(new CustomEvent("pane:drawn", {
      bubbles: true,
      detail: { ...this.current, pane: this, at: this.drawnAt, fromAhead: blit },
    }));
    this.textLayerDiv.replaceChildren();
    this.textLayer = new pdfjsLib.TextLayer({
      textContentSource: page.streamTextContent(),
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
    this.drawAhead(scale, ratio);
    this.root.dispatchEvent(new CustomEvent("pane:rendered", {
      bubbles: true,
      detail: { ...this.current, pane: this, width: viewport.width, height: viewport.height, scale },
    }));
  }

  // While the member reads, draw the next and then the previous page into canvases of their own
  // at the size shown now (fetching their bytes and fonts on the way), so a page turn only copies
  // pixels. A real render cancels this work; a change of size, document or zoom discards it.
  drawAhead(scale, ratio) {
    this.cancelAhead();
    for (const [n, entry] of this.ahead) {
      if (Math.abs(n - this.page) > 1 || Math.abs(entry.scale - scale) >= 0.0005 || entry.ratio !== ratio) this.ahead.delete(n);
    }
    const pdf = this.pdf;
    const serial = this.renderSerial;
    const wanted = [this.page + 1, this.page - 1].filter((n) => n >= 1 && n <= this.pageCount && !this.ahead.has(n));
    const next = async () => {
      this.aheadTimer = null;
      const n = wanted.shift();
      if (n === undefined || this.pdf !== pdf || serial !== this.renderSerial) return;
      try {
        const page = await pdf.getPage(n);
        if (this.pdf !== pdf || serial !== this.renderSerial) return;
        const viewport = page.getViewport({ scale });
        const canvas = document.createElement("canvas");
        canvas.width = Math.floor(viewport.width * ratio);
        canvas.height = Math.floor(viewport.height * ratio);
        this.aheadTask = page.render({
          canvas,
          viewport,
          transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null,
        });
        await this.aheadTask.promise;
        this.aheadTask = null;
        if (this.pdf !== pdf || serial !== this.renderSerial) return;
        this.ahead.set(n, { canvas, scale, ratio });
      } catch {
        this.aheadTask = null;
        return; // cancelled by a real render, or the document went away
      }
      this.aheadTimer = setTimeout(next, 0);
    };
    // After the text layer and the overlays had their turn.
    this.aheadTimer = setTimeout(next, 50);
  }

  cancelAhead() {
    if (this.aheadTimer) clearTimeout(this.aheadTimer);
    this.aheadTimer = null;
    if (this.aheadTask) this.aheadTask.cancel();
    this.aheadTask = null;
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
