// Drag-and-drop upload of PDFs with a progress bar per file (XHR, for upload progress events).
// Files go one after another; each answer says "uploaded" or why the server refused the file.
function formatBytes(n) {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

class Uploader {
  constructor(root) {
    this.root = root;
    this.url = root.dataset.uploadUrl;
    this.csrf = root.dataset.csrf;
    this.maxBytes = Number(root.dataset.maxBytes || 0);
    this.single = root.dataset.single === "1";
    this.list = root.querySelector(".upload-list");
    this.input = root.querySelector("input[type=file]");
    this.zone = root.querySelector(".dropzone");
    this.queue = Promise.resolve();
    this.input.addEventListener("change", () => { this.add([...this.input.files]); this.input.value = ""; });
    this.zone.addEventListener("dragover", (e) => { e.preventDefault(); this.zone.classList.add("is-over"); });
    this.zone.addEventListener("dragleave", () => this.zone.classList.remove("is-over"));
    this.zone.addEventListener("drop", (e) => {
      e.preventDefault();
      this.zone.classList.remove("is-over");
      const files = [...e.dataTransfer.files];
      this.add(this.single ? files.slice(0, 1) : files);
    });
  }

  fields() {
    const data = {};
    this.root.querySelectorAll("[data-field]").forEach((el) => { data[el.dataset.field] = el.value; });
    return data;
  }

  add(files) {
    for (const file of files) {
      const row = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = `${file.name} (${formatBytes(file.size)})`;
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", file.name);
      const result = document.createElement("span");
      result.className = "upload-result";
      row.append(name, bar, result);
      this.list.append(row);
      if (this.maxBytes && file.size > this.maxBytes) {
        bar.remove();
        result.textContent = this.root.dataset.msgTooLarge;
        result.classList.add("is-error");
        continue;
      }
      const fields = this.fields();
      this.queue = this.queue.then(() => this.send(file, fields, bar, result));
    }
  }

  send(file, fields, bar, result) {
    return new Promise((resolve) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      form.append("file", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", this.url);
      xhr.setRequestHeader("X-CSRFToken", this.csrf);
      xhr.responseType = "json";
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.upload.addEventListener("load", () => { bar.removeAttribute("value"); }); // server is checking
      xhr.addEventListener("load", () => {
        const data = xhr.response || {};
        bar.value = 100;
        if (data.ok) {
          result.classList.add("is-ok");
          const link = document.createElement("a");
          link.href = data.url;
          link.textContent = `${this.root.dataset.msgDone} ${data.title || ""}`.trim();
          result.replaceChildren(link);
          // What the platform changed in the copy members read (restrictions removed, ...).
          if (Array.isArray(data.notes) && data.notes.length) {
            const notes = document.createElement("ul");
            notes.className = "upload-notes";
            for (const text of data.notes) {
              const item = document.createElement("li");
              item.textContent = text;
              notes.append(item);
            }
            result.append(notes);
          }
        } else {
          result.classList.add("is-error");
          result.textContent = data.error || this.root.dataset.msgFailed;
        }
        resolve();
      });
      xhr.addEventListener("error", () => {
        result.classList.add("is-error");
        result.textContent = this.root.dataset.msgFailed;
        resolve();
      });
      xhr.send(form);
    });
  }
}

document.querySelectorAll(".uploader").forEach((root) => new Uploader(root));
