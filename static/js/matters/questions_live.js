// The clerk's list of general questions, live: the page follows the clerks' stream of the sitting
// the list belongs to (docs/protocol.md, `questions.changed`) and, on each notice (and after a
// reconnect, which may have missed some), fetches this page again and swaps the list in place.

import { LiveSocket } from "../live/socket.js";

const section = document.getElementById("received-list");
const sittingId = section?.dataset.liveSitting;

if (section && sittingId) {
  const note = section.querySelector("[data-questions-live]");
  let states = 0;
  let busy = false;
  let again = false;

  async function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("received-list");
      const current = document.getElementById("received-list");
      if (!fresh || !current) return;
      const before = current.querySelectorAll("tr[data-question]").length;
      const liveNote = current.querySelector("[data-questions-live]");
      for (const child of [...current.children]) if (child !== liveNote) child.remove();
      for (const child of [...fresh.children]) {
        if (!child.matches("[data-questions-live]")) current.insertBefore(child, liveNote);
      }
      const after = current.querySelectorAll("tr[data-question]").length;
      if (liveNote && after !== before) {
        liveNote.textContent = `${section.dataset.updatedText} ${new Date().toLocaleTimeString()}`;
      }
    } finally {
      busy = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  const socket = new LiveSocket(`/ws/sittings/${sittingId}/`);
  socket.addEventListener("state", () => {
    section.dataset.connected = "1";
    if (states++ > 0) refresh(); // a reconnect: notices may have been missed meanwhile
  });
  socket.addEventListener("status", (event) => {
    if (!event.detail.connected) delete section.dataset.connected;
  });
  socket.addEventListener("event", (event) => {
    if (event.detail.type === "questions.changed") refresh();
  });
  socket.start();
  section.dataset.live = "on";
  if (note) note.dataset.ready = "1";
}
