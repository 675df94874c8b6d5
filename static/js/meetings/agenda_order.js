// Drag-and-drop reordering of the order of business. The Up/Down buttons work without this script;
// this only adds dragging, then posts the new order to the same service the buttons use.
const list = document.getElementById("agenda-order");
const form = document.getElementById("reorder-form");
const status = document.getElementById("order-status");

function currentOrder() {
  return [...list.querySelectorAll("li[data-item-id]")].map((li) => li.dataset.itemId);
}

async function save(order) {
  const body = new FormData(form);
  body.set("order", order.join(","));
  const response = await fetch(list.dataset.reorderUrl, {
    method: "POST",
    body,
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({ ok: false }));
  if (!response.ok || !data.ok) {
    status.textContent = data.error || "";
    window.location.reload();
    return;
  }
  for (const item of data.items) {
    const li = list.querySelector(`li[data-item-id="${item.id}"]`);
    if (li) li.querySelector(".agenda-label").textContent = item.label;
  }
  // The Up/Down buttons at the ends must follow the new order.
  const rows = [...list.querySelectorAll("li[data-item-id]")];
  rows.forEach((li, index) => {
    const up = li.querySelector('button[value="up"]');
    const down = li.querySelector('button[value="down"]');
    if (up) up.disabled = index === 0;
    if (down) down.disabled = index === rows.length - 1;
  });
  status.textContent = data.message || "";
}

if (list && form) {
  let dragged = null;
  list.addEventListener("dragstart", (event) => {
    dragged = event.target.closest("li[data-item-id]");
    if (!dragged) return;
    dragged.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.itemId);
  });
  list.addEventListener("dragover", (event) => {
    const target = event.target.closest("li[data-item-id]");
    if (!dragged || !target || target === dragged) return;
    event.preventDefault();
    const rect = target.getBoundingClientRect();
    const after = event.clientY > rect.top + rect.height / 2;
    list.insertBefore(dragged, after ? target.nextSibling : target);
  });
  list.addEventListener("drop", (event) => event.preventDefault());
  list.addEventListener("dragend", () => {
    if (!dragged) return;
    dragged.classList.remove("is-dragging");
    dragged = null;
    save(currentOrder());
  });
}
