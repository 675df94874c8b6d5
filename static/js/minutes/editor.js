// The minutes editor: autosave each text block (debounced fetch POST with the CSRF token),
// a status line that says whether everything is saved, and keyboard-only movement.
const DEBOUNCE_MS = 800;
const RETRY_MS = 3000;

const statusLine = document.getElementById("save-status");
const csrf = document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
const blocks = [...document.querySelectorAll(".block[data-save-url]")];
const pending = new Map(); // block element -> timer
const inflight = new Set();
let failed = false;

function setStatus(kind, text) {
  if (!statusLine) return;
  statusLine.classList.toggle("is-saving", kind === "saving");
  statusLine.classList.toggle("is-error", kind === "error");
  statusLine.textContent = text || statusLine.dataset[`${kind}Text`] || "";
}

function refreshStatus() {
  if (failed) return;
  if (pending.size || inflight.size) setStatus("saving");
  else setStatus("saved");
}

const chains = new Map(); // block element -> promise of its latest save

// Saves of one block run one after the other, so each carries the revision the last one returned.
function save(block) {
  clearTimeout(pending.get(block));
  pending.delete(block);
  const next = (chains.get(block) || Promise.resolve()).then(() => saveNow(block));
  chains.set(block, next);
  return next;
}

async function saveNow(block) {
  const textarea = block.querySelector("textarea");
  const text = textarea.value;
  if (block.dataset.savedText === text) { refreshStatus(); return true; }
  inflight.add(block);
  refreshStatus();
  const local = block.querySelector(".block-status");
  try {
    const response = await fetch(block.dataset.saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ text, revision: Number(block.dataset.revision) }),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      if (response.status === 409 || response.status === 400) {
        failed = true;
        local.textContent = data.error || "";
        local.classList.add("is-error");
        setStatus("conflict", `${statusLine.dataset.conflictText}: ${data.error || response.status}`);
        return false;
      }
      throw new Error(String(response.status));
    }
    block.dataset.revision = data.revision;
    block.dataset.savedText = text;
    local.textContent = "";
    local.classList.remove("is-error");
    failed = false;
    // Typed more while saving: save again.
    if (textarea.value !== text) schedule(block);
    return true;
  } catch (error) {
    failed = true;
    setStatus("error");
    pending.set(block, setTimeout(() => { failed = false; save(block); }, RETRY_MS));
    return false;
  } finally {
    inflight.delete(block);
    refreshStatus();
  }
}

function schedule(block) {
  clearTimeout(pending.get(block));
  pending.set(block, setTimeout(() => save(block), DEBOUNCE_MS));
  refreshStatus();
}

async function saveAll() {
  const dirty = blocks.filter((b) => b.querySelector("textarea").value !== b.dataset.savedText);
  const results = await Promise.all(dirty.map(save));
  return results.every(Boolean);
}

function focusSibling(from, step) {
  const areas = [...document.querySelectorAll(".block[data-save-url] textarea")];
  const i = areas.indexOf(from);
  const next = areas[i + step];
  if (next) {
    next.focus();
    next.scrollIntoView({ block: "center" });
  }
}

for (const block of blocks) {
  const textarea = block.querySelector("textarea");
  block.dataset.savedText = textarea.value;
  textarea.addEventListener("input", () => schedule(block));
  textarea.addEventListener("blur", () => { if (pending.has(block)) save(block); });
  textarea.addEventListener("keydown", (event) => {
    if (event.altKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      focusSibling(textarea, event.key === "ArrowDown" ? 1 : -1);
    } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      save(block);
    } else if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      const form = block.querySelector("form.add-remark");
      if (form) form.requestSubmit();
    }
  });
}

// Forms on the page (add/move a remark, import, submit) navigate away: save first.
for (const form of document.querySelectorAll("form")) {
  form.addEventListener("submit", async (event) => {
    if (form.dataset.flushed === "1") return;
    const dirty = blocks.some((b) => b.querySelector("textarea").value !== b.dataset.savedText);
    if (!dirty) return;
    event.preventDefault();
    if (await saveAll()) {
      form.dataset.flushed = "1";
      form.requestSubmit(event.submitter || undefined);
    }
  });
}

window.addEventListener("beforeunload", (event) => {
  const dirty = blocks.some((b) => b.querySelector("textarea").value !== b.dataset.savedText);
  if (dirty || inflight.size) {
    event.preventDefault();
    event.returnValue = "";
  }
});

// Land on the block named in the address (after adding or moving a remark).
// (after load: the browser's own scroll to the fragment would otherwise take the focus back)
function focusTarget() {
  const target = location.hash && document.querySelector(`#${CSS.escape(location.hash.slice(1))} textarea`);
  if (target) {
    target.focus();
    target.setSelectionRange(target.value.length, target.value.length);
  }
}
if (document.readyState === "complete") setTimeout(focusTarget, 0);
else window.addEventListener("load", () => setTimeout(focusTarget, 0));
