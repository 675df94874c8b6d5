// Full-text search from the reader: the hits (document, page, snippet) of every document the
// member may see; choosing one opens that page with the words highlighted.
export class Search {
  constructor(root, config, onChoose) {
    this.form = root.querySelector(".reader-search");
    this.results = root.querySelector(".reader-search-results");
    this.config = config;
    this.onChoose = onChoose;
    this.hits = [];
    if (!this.form || !this.results) return;
    this.msgNone = this.results.dataset.msgNone || "";
    this.msgPage = this.results.dataset.msgPage || "";
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.run(new FormData(this.form).get("q") || "");
    });
    this.results.addEventListener("click", (e) => {
      const button = e.target.closest("[data-hit]");
      if (button) this.onChoose(this.hits[Number(button.dataset.hit)]);
    });
  }

  async run(query) {
    query = String(query).trim();
    if (!query) { this.results.replaceChildren(); return; }
    const url = `${this.config.search}?q=${encodeURIComponent(query)}`;
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    this.hits = data.hits.map((h) => ({ ...h, query }));
    if (!this.hits.length) {
      const p = document.createElement("p");
      p.textContent = this.msgNone;
      this.results.replaceChildren(p);
      return;
    }
    const list = document.createElement("ol");
    this.hits.forEach((hit, i) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "search-hit";
      button.dataset.hit = String(i);
      const title = document.createElement("strong");
      title.textContent = `${hit.title} — ${this.msgPage} ${hit.page}`;
      const snippet = document.createElement("span");
      snippet.className = "snippet";
      // The snippet is escaped on the server; only <mark> is markup.
      snippet.innerHTML = hit.snippet;
      button.append(title, snippet);
      li.append(button);
      list.append(li);
    });
    this.results.replaceChildren(list);
  }
}
