// Service Worker for offline packets. Served by /documents/annotations/sw.js with
// "Service-Worker-Allowed: /" so it controls the reader and the documents pages.
//
// - Packet items (document files, reader pages, the member's notes) were put in the packet cache
//   by the packet page; they are served from it when the network is unavailable.
// - Static files are cached as they are used, so the reader's code works offline.
// - The copy is dropped when it expires (checked on every request) and at sign-out.
// - Nothing else is cached: closed-session documents never reach the packet (the server leaves
//   them out of the manifest) and document files are never cached outside the packet.
/* eslint-env serviceworker */

const DB_NAME = "council-offline";
const PACKET_CACHE = "council-packet-v1";
const ASSET_CACHE = "council-assets-v1";
const LOGOUT_PATH = "/accounts/logout/";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

function idb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta");
      if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "client_id" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function read(store, fn) {
  const db = await idb();
  try {
    return await new Promise((resolve, reject) => {
      const r = fn(db.transaction(store, "readonly").objectStore(store));
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  } finally {
    db.close();
  }
}

async function expired() {
  try {
    const expires = await read("meta", (s) => s.get("expires_at"));
    return Boolean(expires && Date.parse(expires) <= Date.now());
  } catch {
    return false;
  }
}

async function dropPacket() {
  for (const name of await caches.keys()) {
    if (name.startsWith("council-")) await caches.delete(name);
  }
}

async function wipeAll() {
  await dropPacket();
  await new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(DB_NAME);
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}

// Before signing out, try once to send notes written offline, then remove everything.
async function signOut(request) {
  try {
    const pending = await read("outbox", (s) => s.getAll());
    const csrf = await read("meta", (s) => s.get("csrf"));
    if (pending.length && csrf) {
      await fetch("/documents/annotations/api/sync/", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ changes: pending.map(({ queued_at, ...c }) => c) }),
      });
    }
  } catch { /* signing out must not wait on this */ }
  await wipeAll();
  return fetch(request);
}

// When a device comes online, ask whether its copy was revoked or has expired (at most every
// few minutes, on page loads), even on pages without the reader and without a session.
let lastCheck = 0;
async function checkDevice() {
  if (Date.now() - lastCheck < 5 * 60 * 1000) return;
  lastCheck = Date.now();
  try {
    const id = await read("meta", (s) => s.get("device_id"));
    const packetAt = await read("meta", (s) => s.get("packet_at"));
    if (!id || !packetAt) return;
    const r = await fetch(`/documents/annotations/api/devices/${id}/`, { credentials: "same-origin", cache: "no-store" });
    if (!r.ok) return;
    const status = await r.json();
    if (status.revoked) await wipeAll();
    else if (status.expired) await dropPacket();
  } catch { /* offline: try again later */ }
}

async function fromPacket(request) {
  const cache = await caches.open(PACKET_CACHE);
  return (await cache.match(request.url)) || (await cache.match(request.url, { ignoreSearch: true }));
}

// pdf.js asks for byte ranges; answer them from the cached whole file.
async function ranged(request, response) {
  const range = request.headers.get("Range");
  const m = range && range.match(/^bytes=(\d+)-(\d*)$/);
  if (!m) return response;
  const blob = await response.blob();
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), blob.size - 1) : blob.size - 1;
  if (start >= blob.size) return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${blob.size}` } });
  const headers = new Headers(response.headers);
  headers.set("Content-Range", `bytes ${start}-${end}/${blob.size}`);
  headers.set("Content-Length", String(end - start + 1));
  return new Response(blob.slice(start, end + 1), { status: 206, headers });
}

async function handle(request, url) {
  if (await expired()) await dropPacket();
  const isStatic = url.pathname.startsWith("/static/");
  const isDocumentFile = /^\/documents\/versions\/\d+\/file$/.test(url.pathname);
  if (isDocumentFile) {
    // Network first (a replacement must show at once); the packet copy only without a network.
    try {
      return await fetch(request);
    } catch (err) {
      const cached = await fromPacket(request);
      if (cached) return ranged(request, cached);
      throw err;
    }
  }
  if (isStatic) {
    // Network first (a new release must not run yesterday's code), kept for use without a network.
    try {
      const response = await fetch(request);
      if (response.ok && response.status === 200) {
        const cache = await caches.open(ASSET_CACHE);
        await cache.put(request.url, response.clone());
      }
      return response;
    } catch (err) {
      const cached = await caches.match(request.url);
      if (cached) return cached;
      throw err;
    }
  }
  // Pages and the notes API: network first, then the packet.
  try {
    const response = await fetch(request);
    if (response.ok && url.pathname.startsWith("/documents/annotations/api/versions/")) {
      const cache = await caches.open(PACKET_CACHE);
      if (await cache.match(request.url)) await cache.put(request.url, response.clone());
    }
    return response;
  } catch (err) {
    const cached = await fromPacket(request);
    if (cached) return cached;
    if (request.mode === "navigate") {
      const cache = await caches.open(PACKET_CACHE);
      const home = await cache.match("/documents/annotations/offline/");
      if (home) return home;
    }
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === LOGOUT_PATH) {
    event.respondWith(signOut(request));
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.startsWith("/documents/annotations/sw.js")) return;
  if (request.mode === "navigate") event.waitUntil(checkDevice());
  const handled = url.pathname.startsWith("/static/")
    || url.pathname.startsWith("/documents/")
    || request.mode === "navigate";
  if (!handled) return;
  event.respondWith(handle(request, url));
});
