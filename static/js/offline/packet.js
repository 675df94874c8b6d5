// The offline packet page: registers the Service Worker, downloads the packet for the member's
// upcoming sittings into the Cache API with a progress bar, and shows when the copy expires.
import { PACKET_CACHE, csrfToken, deviceId, getMeta, hasPacket, setMeta, wipe } from "./store.js";
import { checkDevice, expiredLocally, flush, prune } from "./sync.js";

const root = document.getElementById("offline-packet");
const $ = (id) => document.getElementById(id);
const msg = (name) => root.dataset[name] || "";

function say(text) {
  $("packet-status").textContent = text;
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export async function registerServiceWorker(url) {
  if (!("serviceWorker" in navigator)) return null;
  const reg = await navigator.serviceWorker.register(url, { scope: "/" });
  await navigator.serviceWorker.ready;
  return reg;
}

async function showExpiry() {
  const expires = await getMeta("expires_at");
  $("packet-expiry").textContent = expires && (await hasPacket())
    ? `${msg("msgKeptUntil")} ${new Date(expires).toLocaleString()}` : "";
}

// Fetch one URL into the cache, reporting bytes as they arrive.
async function fetchInto(cache, url, onBytes) {
  const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  const reader = response.body.getReader();
  const chunks = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    onBytes(value.byteLength);
  }
  const headers = new Headers(response.headers);
  headers.set("X-Council-Offline", "1");
  await cache.put(url, new Response(new Blob(chunks), { status: 200, headers }));
}

async function download() {
  const button = $("packet-download");
  button.disabled = true;
  say(msg("msgDownloading"));
  try {
    await registerServiceWorker(root.dataset.swUrl);
    const id = await deviceId();
    const r = await fetch(root.dataset.packetUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ device_id: id, label: navigator.userAgent }),
    });
    if (r.status === 410) {
      await wipe();
      say(msg("msgRevoked"));
      return;
    }
    if (!r.ok) throw new Error(String(r.status));
    const manifest = await r.json();
    const progress = $("packet-progress");
    const files = manifest.items.map((i) => ({ url: i.file, size: i.size }));
    const small = [
      ...manifest.pages, location.pathname, ...manifest.items.map((i) => i.reader),
      ...manifest.items.map((i) => i.annotations), ...manifest.assets,
    ].filter((u) => u && u !== "#");
    const total = manifest.total + small.length * 2048; // small files: an estimate for the bar
    progress.max = total;
    progress.value = 0;
    let done = 0;
    const tick = (n) => {
      done += n;
      progress.value = Math.min(done, total);
      $("packet-progress-text").textContent = `${formatBytes(done)} / ${formatBytes(manifest.total)}`;
    };
    await caches.delete(PACKET_CACHE);
    const cache = await caches.open(PACKET_CACHE);
    for (const file of files) await fetchInto(cache, file.url, tick);
    for (const url of [...new Set(small)]) await fetchInto(cache, url, tick);
    progress.value = total;
    await setMeta("expires_at", manifest.expires_at);
    await setMeta("packet_at", new Date().toISOString());
    await setMeta("csrf", csrfToken());
    await setMeta("items", manifest.items);
    say(msg("msgDone"));
    root.dataset.state = "ready";
  } catch (err) {
    console.error(err);
    say(msg("msgFailed"));
  } finally {
    button.disabled = false;
    showExpiry();
  }
}

async function init() {
  if (!("caches" in window) || !("indexedDB" in window) || !("serviceWorker" in navigator)) {
    say(msg("msgUnsupported"));
    $("packet-download").disabled = true;
    return;
  }
  registerServiceWorker(root.dataset.swUrl).catch(() => {});
  if (await expiredLocally()) {
    await wipe({ keepOutbox: true });
    say(msg("msgExpired"));
  }
  const state = await checkDevice(root.dataset.deviceUrl);
  if (!state.ok) say(state.reason === "revoked" ? msg("msgRevoked") : msg("msgExpired"));
  else if (!navigator.onLine && (await hasPacket())) say(msg("msgOffline"));
  else prune(root.dataset.packetUrl).then((r) => { if (r.missing) say(msg("msgPacketStale")); }).catch(() => {});
  flush(root.dataset.syncUrl);
  $("packet-download").addEventListener("click", download);
  $("packet-remove").addEventListener("click", async () => {
    await flush(root.dataset.syncUrl);
    await wipe({ keepOutbox: true });
    say("");
    showExpiry();
  });
  showExpiry();
  if (await hasPacket()) root.dataset.state = "ready";
}

init();
