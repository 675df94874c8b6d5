// Feed states, events and replies through static/js/live/socket.js (the browsers' client) and
// print the states it ends with: tests/live/test_event_contract.py compares them with fresh ones.
// Input on stdin: [{"state": {...}, "events": [...], "replies": [...]}, ...]; output: [state, ...].
import { readFileSync } from "node:fs";

globalThis.location = { protocol: "http:", host: "testserver" };
globalThis.document = { addEventListener() {}, visibilityState: "visible" };
const { LiveSocket } = await import("../../static/js/live/socket.js");

const cases = JSON.parse(readFileSync(0, "utf8"));
const out = cases.map(({ state, events, replies }) => {
  const socket = new LiveSocket("/ws/sittings/0/");
  socket.send = () => "unused"; // a gap would ask for the state: the test sees it as a mismatch
  socket.handle(state);
  for (const event of events) socket.handle(event);
  for (const reply of replies) socket.handle(reply);
  return socket.state;
});
process.stdout.write(JSON.stringify(out));
