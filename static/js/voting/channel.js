// The voting panels' link to the sitting's live socket (/ws/sittings/<id>/).
//
// When the live area's client is on the page (`window.councilLive`, static/js/live/socket.js:
// `send(message)`, "message" and "status" events), the panels share its socket; messages sent
// while it is down wait for the reconnect. Otherwise (the standalone voting pages) they open
// their own, reconnecting with backoff and jitter. The server sends the full state on every
// (re)connect, so nothing is missed.

export function openChannel(sittingId, onMessage, onStatus) {
  const shared = window.councilLive;
  if (shared && typeof shared.send === "function" && typeof shared.addEventListener === "function") {
    const waiting = [];
    shared.addEventListener("message", (event) => onMessage(event.detail));
    shared.addEventListener("status", (event) => {
      onStatus?.(event.detail.connected);
      if (event.detail.connected) while (waiting.length) shared.send(waiting.shift());
    });
    if (shared.lastState) onMessage(shared.lastState);
    return { send: (message) => { if (shared.send(message) === null) waiting.push(message); } };
  }
  let socket = null;
  let attempt = 0;
  const queue = [];
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/sittings/${sittingId}/`;

  function connect() {
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      attempt = 0;
      onStatus?.(true);
      while (queue.length) socket.send(queue.shift());
    });
    socket.addEventListener("message", (event) => {
      try {
        onMessage(JSON.parse(event.data));
      } catch (err) {
        console.error("voting: bad message", err);
      }
    });
    socket.addEventListener("close", (event) => {
      onStatus?.(false);
      if (event.code === 4403 || event.code === 4401) return; // no access: do not hammer the server
      const delay = Math.min(15000, 500 * 2 ** attempt++) * (0.5 + Math.random());
      setTimeout(connect, delay);
    });
  }
  connect();
  return {
    send(message) {
      const text = JSON.stringify(message);
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(text);
      else queue.push(text);
    },
  };
}
