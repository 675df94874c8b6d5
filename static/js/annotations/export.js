// The annotated-PDF export. A tap on "Export with my notes" in the reader's pen panel sends the notes
// still on this device, asks the server to queue the export (the job worker makes the PDF) and opens
// a sheet over the page that follows the job and, once the PDF is ready, offers a large download
// button: the member never leaves the reader. The export's own page (exports/<id>/) uses the same
// panel and this module's polling.
import { csrfToken } from "../offline/store.js";

const POLL_MS = 1000;

export class ExportPanel {
  constructor(panel) {
    this.panel = panel;
    const q = (sel) => panel.querySelector(sel);
    this.bar = q("progress");
    this.title = q("[data-export-field=title]");
    this.message = q("[data-export-field=message]");
    this.expires = q("[data-export-field=expires]");
    this.download = q("[data-export-action=download]");
    this.retry = q("[data-export-action=retry]");
    this.timer = null;
    this.statusUrl = panel.dataset.statusUrl || "";
    this.generation = 0; // a newer export (or closing) stops the older poll
  }

  msg(name) { return this.panel.dataset[name] || ""; }

  reset(text, title = "") {
    this.stop();
    this.panel.dataset.state = "starting";
    this.bar.value = 0;
    this.bar.removeAttribute("value"); // indeterminate until the job reports
    this.title.textContent = title;
    this.message.textContent = text;
    this.download.hidden = true;
    if (this.retry) this.retry.hidden = true;
    if (this.expires) this.expires.hidden = true;
  }

  show(status) {
    this.panel.dataset.state = status.state;
    if (status.state === "queued") this.bar.removeAttribute("value"); // waiting: no figure to show yet
    else this.bar.value = status.progress;
    this.bar.textContent = `${status.progress}%`;
    if (status.title) this.title.textContent = status.title;
    this.message.textContent = status.message;
    const ready = Boolean(status.file_url);
    this.download.hidden = !ready;
    if (ready) {
      this.download.href = status.file_url;
      this.download.setAttribute("download", status.filename || "");
    }
    if (this.retry) this.retry.hidden = status.state !== "failed";
    if (this.expires) {
      this.expires.hidden = !status.expires;
      if (status.expires) this.expires.textContent = this.msg("msgExpires").replace("{time}", status.expires);
    }
  }

  refuse(text) {
    this.stop();
    this.panel.dataset.state = "failed";
    this.bar.value = 0;
    this.message.textContent = text;
    this.download.hidden = true;
    if (this.retry) this.retry.hidden = false;
  }

  follow(url) {
    this.stop();
    this.statusUrl = url;
    this.poll(++this.generation);
  }

  async poll(generation) {
    if (generation !== this.generation) return;
    let wait = POLL_MS;
    try {
      const r = await fetch(this.statusUrl, {
        credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
      });
      const data = await r.json();
      if (generation !== this.generation) return;
      if (!r.ok) { this.refuse(data.error || ""); return; }
      this.show(data);
      if (data.finished) return;
    } catch {
      if (generation !== this.generation) return;
      this.message.textContent = this.msg("msgLost");
      wait = POLL_MS * 3;
    }
    this.timer = setTimeout(() => this.poll(generation), wait);
  }

  stop() {
    this.generation += 1;
    clearTimeout(this.timer);
    this.timer = null;
  }
}

// The reader's sheet: `startUrl` has /0/ where the document id goes; `flush` sends pending notes.
export class ExportSheet extends ExportPanel {
  constructor(panel, { startUrl, flush, beforeOpen }) {
    super(panel);
    this.startUrl = startUrl;
    this.flush = flush;
    this.beforeOpen = beforeOpen;
    this.documentId = null;
    panel.addEventListener("click", (e) => {
      const action = e.target.closest("[data-export-action]");
      if (!action) return;
      if (action.dataset.exportAction === "close") this.close();
      else if (action.dataset.exportAction === "retry") this.start(this.documentId, this.title.textContent);
    });
    panel.addEventListener("keydown", (e) => { if (e.key === "Escape") this.close(); });
  }

  open() {
    if (this.beforeOpen) this.beforeOpen();
    this.panel.hidden = false;
  }

  close() {
    this.stop();
    this.panel.hidden = true;
    this.panel.dispatchEvent(new CustomEvent("export:closed", { bubbles: true }));
  }

  async start(documentId, title = "") {
    if (!documentId) return;
    this.documentId = documentId;
    this.open();
    this.reset(this.msg("msgStarting"), title);
    this.panel.querySelector("[data-export-action=close]")?.focus();
    if (!navigator.onLine) { this.refuse(this.msg("msgOffline")); return; }
    const generation = this.generation;
    try {
      // The PDF is made from what the server has: send the notes still waiting on this device first.
      if (this.flush) await this.flush();
      const r = await fetch(this.startUrl.replace("/0/", `/${documentId}/`), {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      });
      const data = await r.json().catch(() => ({}));
      if (generation !== this.generation) return;
      if (!r.ok) { this.refuse(data.error || this.msg("msgLost")); return; }
      this.show(data);
      this.follow(data.status_url);
    } catch {
      if (generation === this.generation) this.refuse(this.msg("msgOffline"));
    }
  }
}

// The export's own page: follow the job shown there.
const standalone = document.querySelector(".annot-export-page .annot-export[data-status-url]");
if (standalone && !["done", "failed"].includes(standalone.dataset.state)) {
  const panel = new ExportPanel(standalone);
  panel.follow(standalone.dataset.statusUrl);
}
