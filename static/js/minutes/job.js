// Shows a background job's progress (drafting or rendering) by polling its status endpoint.
// The editor's preview (preview.js) starts a job in place and calls watchJob() on the new one.
const DONE = ["done", "failed"];

export function watchJob(box, { onDone } = {}) {
  async function poll() {
    try {
      const response = await fetch(box.dataset.jobUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error(String(response.status));
      const job = await response.json();
      box.querySelector("progress").value = job.progress;
      const detail = (job.state === "running" || job.state === "failed") && job.message;
      box.querySelector(".job-message").textContent = detail ? `${job.state_label}: ${job.message}` : job.state_label;
      box.dataset.jobState = job.state;
      if (job.done) {
        const heading = job.state === "done" ? box.dataset.headingDone : box.dataset.headingFailed;
        if (heading) box.querySelector(".job-title").textContent = heading;
        if (job.state === "done" && job.next) {
          if (job.kind === "draft" && !location.pathname.endsWith("/edit/")) {
            location.assign(job.next);
            return;
          }
          const link = document.createElement("a");
          link.href = job.next;
          if (job.next.endsWith("/pdf/")) {
            link.textContent = box.dataset.msgOpenPdf || "PDF";
            link.target = "_blank";
            link.rel = "noopener";
            link.dataset.previewPdf = "";
          } else {
            link.textContent = job.next;
          }
          box.querySelector(".job-next").replaceChildren(link);
        }
        if (onDone) onDone(job);
        return;
      }
    } catch (error) {
      // keep polling: the server may be restarting
    }
    setTimeout(poll, 700);
  }
  poll();
}

const box = document.querySelector("[data-job-url]");
// A job still running is followed; so is the one the clerk has just started (data-watch), even if
// the worker finished it before this page was drawn: a finished draft then opens the editor.
if (box && (!DONE.includes(box.dataset.jobState) || box.dataset.watch) && !box.dataset.watched) {
  box.dataset.watched = "1";
  watchJob(box);
}
