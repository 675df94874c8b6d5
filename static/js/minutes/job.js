// Shows a background job's progress (drafting or rendering) by polling its status endpoint.
const box = document.querySelector("[data-job-url]");

async function poll() {
  if (!box) return;
  try {
    const response = await fetch(box.dataset.jobUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    const job = await response.json();
    box.querySelector("progress").value = job.progress;
    box.querySelector(".job-message").textContent = `${job.state_label}: ${job.message}`;
    box.dataset.jobState = job.state;
    if (job.done) {
      if (job.state === "done" && job.next) {
        if (job.kind === "draft" && !location.pathname.endsWith("/edit/")) {
          location.assign(job.next);
          return;
        }
        const link = document.createElement("a");
        link.href = job.next;
        link.textContent = job.next.endsWith("/pdf/") ? "PDF" : job.next;
        box.querySelector(".job-next").replaceChildren(link);
      }
      return;
    }
  } catch (error) {
    // keep polling: the server may be restarting
  }
  setTimeout(poll, 700);
}

if (box && !["done", "failed"].includes(box.dataset.jobState)) poll();
