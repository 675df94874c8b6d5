// Sends queued note changes to the server and applies what it answers. Used by the reader
// layer (every stroke goes through the outbox, online or not) and by the packet page.
import { PACKET_CACHE, csrfToken, deviceId, getMeta, outboxAll, outboxDelete, outboxPut, setMeta, wipe } from "./store.js";

let flushing = null;

// Ask the server whether this device must drop its copy (revoked by an administrator, or expired).
export async function checkDevice(deviceUrlTemplate) {
  if (!navigator.onLine || !deviceUrlTemplate) return { ok: true };
  const id = await getMeta("device_id");
  if (!id || !(await getMeta("packet_at"))) return { ok: true };
  let status;
  try {
    const r = await fetch(deviceUrlTemplate.replace("DEVICE", id), { credentials: "same-origin", cache: "no-store" });
    if (!r.ok) return { ok: true };
    status = await r.json();
  } catch {
    return { ok: true };
  }
  if (status.revoked) {
    await wipe();
    await report(deviceUrlTemplate, id);
    return { ok: false, reason: "revoked" };
  }
  if (status.expired) {
    await wipe({ keepOutbox: true });
    await report(deviceUrlTemplate, id);
    return { ok: false, reason: "expired" };
  }
  return { ok: true };
}

async function report(deviceUrlTemplate, id) {
  try {
    await fetch(deviceUrlTemplate.replace("DEVICE", id), {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
    });
  } catch { /* the server learns next time */ }
}

// Expired by the device's own clock (works offline too).
export async function expiredLocally() {
  const expires = await getMeta("expires_at");
  return Boolean(expires && Date.parse(expires) <= Date.now());
}

// Send the outbox. Resolves to the server's results (or [] when offline / nothing to send).
export function flush(syncUrl, onResult) {
  if (flushing) return flushing;
  flushing = (async () => {
    try {
      const pending = await outboxAll();
      if (!pending.length || !navigator.onLine) return [];
      const id = await getMeta("packet_at") ? await deviceId() : null;
      const r = await fetch(syncUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ device_id: id, changes: pending.map(({ queued_at, ...c }) => c) }),
      });
      if (!r.ok) return [];
      const body = await r.json();
      if (body.revoked) {
        await wipe();
        if (onResult) onResult({ revoked: true });
        return [];
      }
      for (const result of body.results) {
        const sent = pending.find((c) => c.client_id === result.client_id);
        // Drop the entry only if it was not edited again while we were sending.
        const still = (await outboxAll()).find((c) => c.client_id === result.client_id);
        const newer = Boolean(still && !(sent && still.queued_at === sent.queued_at));
        if (!newer) {
          await outboxDelete(result.client_id);
        } else if (result.annotation) {
          // Edited again meanwhile: that edit now builds on the revision the server just made.
          await outboxPut({ ...still, base_revision: result.annotation.revision });
        }
        if (onResult) onResult(result, { pending: newer });
      }
      await setMeta("synced_at", new Date().toISOString());
      return body.results;
    } catch {
      return [];
    } finally {
      flushing = null;
    }
  })();
  return flushing;
}

// Drop cached documents the member may no longer keep (withdrawn, restricted, replaced, or a
// sitting that is over): the server lists the versions allowed now.
export async function prune(packetUrl) {
  const none = { dropped: 0, missing: 0 };
  if (!navigator.onLine || !packetUrl) return none;
  const items = await getMeta("items");
  if (!items || !items.length) return none;
  let allowed;
  try {
    const r = await fetch(packetUrl, { credentials: "same-origin", cache: "no-store" });
    if (!r.ok) return none;
    allowed = new Set((await r.json()).versions);
  } catch {
    return none;
  }
  const cache = await caches.open(PACKET_CACHE);
  const keep = [];
  let dropped = 0;
  for (const item of items) {
    if (allowed.has(item.version)) { keep.push(item); continue; }
    for (const url of [item.file, item.reader, item.annotations]) if (url) await cache.delete(url);
    dropped += 1;
  }
  if (dropped) await setMeta("items", keep);
  const have = new Set(keep.map((i) => i.version));
  return { dropped, missing: [...allowed].filter((v) => !have.has(v)).length };
}
