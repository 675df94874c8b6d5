// Asks before a form that cannot be undone is sent: <form data-confirm-dialog="dialog-id"> opens
// that <dialog>; its [data-confirm=yes] button sends the form with confirm=yes, [data-confirm=no]
// closes it. Without this script the server asks on a page of its own (the form lacks confirm=yes).
for (const form of document.querySelectorAll("form[data-confirm-dialog]")) {
  const dialog = document.getElementById(form.dataset.confirmDialog);
  if (!dialog || typeof dialog.showModal !== "function") continue;
  form.addEventListener("submit", (event) => {
    if (form.elements.confirm) return;
    event.preventDefault();
    dialog.showModal();
  });
  dialog.querySelector("[data-confirm=yes]").addEventListener("click", () => {
    const confirm = document.createElement("input");
    confirm.type = "hidden";
    confirm.name = "confirm";
    confirm.value = "yes";
    form.append(confirm);
    dialog.close();
    form.submit();
  });
  dialog.querySelector("[data-confirm=no]").addEventListener("click", () => dialog.close());
}
