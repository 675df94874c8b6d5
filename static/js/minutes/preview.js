// The editor's PDF preview without leaving the editor: the request starts a rendering job in
// place (its progress shows in the side column) and the finished PDF opens in a dialog above
// the text. Without this script the form posts and the server brings the clerk back here.
import { watchJob } from "./job.js";

const form = document.querySelector("form[data-preview-form]");
const slot = document.getElementById("job-slot");
const dialog = document.getElementById("preview-dialog");

function showPdf(url) {
  if (!dialog || typeof dialog.showModal !== "function") {
    window.open(url, "_blank", "noopener");
    return;
  }
  dialog.querySelector("iframe").src = url;
  dialog.querySelector("[data-preview-tab]").href = url;
  dialog.showModal();
}

if (dialog) {
  dialog.querySelector("[data-preview-close]").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    dialog.querySelector("iframe").removeAttribute("src");
  });
}

// A finished preview's link opens the dialog too (a middle click still opens a tab).
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-preview-pdf]");
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  showPdf(link.href);
});

if (form && slot) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const data = await response.json();
      if (!response.ok || !data.ok) throw new Error("refused");
      slot.innerHTML = data.box;
      const box = slot.querySelector("[data-job-url]");
      box.dataset.watched = "1";
      watchJob(box, {
        onDone(job) {
          button.disabled = false;
          if (job.state === "done" && job.next) showPdf(job.next);
        },
      });
    } catch (error) {
      button.disabled = false;
      form.submit(); // let the server answer (and explain) the plain way
    }
  });
}
