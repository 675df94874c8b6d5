// The page thumbnails of the active document: small images rendered at upload time, loaded lazily.
export class Thumbnails {
  constructor(root, config, onChoose) {
    this.root = root;
    this.config = config;
    this.onChoose = onChoose;
    this.versionId = null;
    if (!root) return;
    root.addEventListener("click", (e) => {
      const button = e.target.closest("[data-page]");
      if (button) this.onChoose(Number(button.dataset.page));
    });
  }

  url(versionId, page) {
    return this.config.thumbnail.replace("/versions/0/", `/versions/${versionId}/`).replace("/pages/1/", `/pages/${page}/`);
  }

  show(pane, { force = false } = {}) {
    if (!this.root || !pane.pdf) return;
    if (this.versionId !== pane.versionId || force && !this.root.children.length) {
      this.versionId = pane.versionId;
      const label = this.root.dataset.msgPage || "Page";
      const changes = (pane.version && pane.version.changes) || {};
      const changed = new Set([...(changes.changed || []), ...(changes.added || [])]);
      const items = [];
      for (let n = 1; n <= pane.pageCount; n += 1) {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "thumb";
        button.dataset.page = String(n);
        button.setAttribute("aria-label", `${label} ${n}${changed.has(n) ? ` (${this.root.dataset.msgChanged})` : ""}`);
        if (changed.has(n)) button.classList.add("is-changed");
        const img = document.createElement("img");
        img.loading = "lazy";
        img.decoding = "async";
        img.alt = "";
        img.src = this.url(pane.versionId, n);
        const caption = document.createElement("span");
        caption.textContent = String(n);
        button.append(img, caption);
        li.append(button);
        items.push(li);
      }
      this.root.replaceChildren(...items);
    }
    this.root.querySelectorAll(".thumb").forEach((b) => {
      const on = Number(b.dataset.page) === pane.page;
      b.setAttribute("aria-current", on ? "page" : "false");
      // Scroll the strip only (scrollIntoView could move the reader's own fixed layout).
      if (on && this.root.clientWidth) this.root.scrollLeft = b.parentElement.offsetLeft - (this.root.clientWidth - b.offsetWidth) / 2;
    });
  }
}
