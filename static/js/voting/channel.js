// The voting panels' link to the sitting's live socket (/ws/sittings/<id>/).
//
// The panels always speak through the live area's client (static/js/live/socket.js): the page's
// socket when the live page has one (`window.councilLive`), otherwise one opened here for the
// standalone voting pages. Either way the protocol (state, sequence numbers and resync, heartbeat,
// reconnect with backoff and jitter, no reconnect after 4401/4403) lives in socket.js alone.
// Messages sent while the socket is down wait for the reconnect; the server sends the full state
// on every (re)connect, so nothing is missed.

import { LiveSocket } from "../live/socket.js";

export function openChannel(sittingId, onMessage, onStatus) {
  let live = window.councilLive;
  if (!(live instanceof EventTarget) || typeof live.send !== "function") {
    live = new LiveSocket(`/ws/sittings/${sittingId}/`).start();
    window.councilLive = live;
  }
  const waiting = [];
  live.addEventListener("message", (event) => onMessage(event.detail));
  live.addEventListener("status", (event) => {
    onStatus?.(event.detail.connected);
    if (event.detail.connected) while (waiting.length) live.send(waiting.shift());
  });
  if (live.lastState) onMessage(live.lastState);
  return {
    send(message) {
      if (live.send(message) === null) waiting.push(message);
    },
  };
}
