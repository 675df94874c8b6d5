// The browser side of offline packets and notes: IndexedDB ("council-offline") holds the device
// id, expiry and the outbox of note changes not yet on the server; the Cache API holds the
// packet. The Service Worker (sw.js) keeps its own copy of the few helpers it needs.

export const DB_NAME = "council-offline";
export const PACKET_CACHE = "council-packet-v1";
export const ASSET_CACHE = "council-assets-v1";

function open() {
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

async function tx(store, mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(store, mode);
      const result = fn(t.objectStore(store));
      t.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}

export const getMeta = (key) => tx("meta", "readonly", (s) => s.get(key));
export const setMeta = (key, value) => tx("meta", "readwrite", (s) => s.put(value, key));
export const outboxPut = (change) => tx("outbox", "readwrite", (s) => s.put(change));
export const outboxAll = () => tx("outbox", "readonly", (s) => s.getAll());
export const outboxDelete = (clientId) => tx("outbox", "readwrite", (s) => s.delete(clientId));

export function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (m) return decodeURIComponent(m[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

// A random (version 4) UUID. crypto.randomUUID exists only in secure contexts: a tablet reaching
// the platform over plain http on the council's LAN (and older iPads) has only getRandomValues.
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export async function deviceId() {
  let id = await getMeta("device_id");
  if (!id) {
    id = uuid();
    await setMeta("device_id", id);
  }
  return id;
}

// Remove the packet (documents, pages) and, unless keepOutbox, every note kept on this device.
export async function wipe({ keepOutbox = false } = {}) {
  for (const name of await caches.keys()) {
    if (name.startsWith("council-")) await caches.delete(name);
  }
  if (keepOutbox) {
    await tx("meta", "readwrite", (s) => s.clear());
    return;
  }
  await new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(DB_NAME);
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}

export async function hasPacket() {
  return (await caches.keys()).includes(PACKET_CACHE);
}
