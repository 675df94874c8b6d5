// Feed states, events and replies through static/js/live/socket.js (the browsers' client) and
// print the states it ends with: tests/live/test_event_contract.py compares them with fresh ones.
// Input on stdin: [{"state": {...}, "events": [...], "replies": [...]}, ...]; output: [state, ...].
// With --lines: one such input per line, each answered with one line of output, until stdin ends
// (the test keeps one process for all its cases instead of starting node for each).
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

globalThis.location = { protocol: "http:", host: "testserver" };
globalThis.document = { addEventListener() {}, visibilityState: "visible" };
const { LiveSocket } = await import("../../static/js/live/socket.js");

function apply(cases) {
  return cases.map(({ state, events, replies }) => {
    const socket = new LiveSocket("/ws/sittings/0/");
    socket.send = () => "unused"; // a gap would ask for the state: the test sees it as a mismatch
    socket.handle(state);
    for (const event of events) socket.handle(event);
    for (const reply of replies) socket.handle(reply);
    return socket.state;
  });
}

if (process.argv.includes("--lines")) {
  for await (const line of createInterface({ input: process.stdin })) {
    process.stdout.write(`${JSON.stringify(apply(JSON.parse(line)))}\n`);
  }
} else {
  process.stdout.write(JSON.stringify(apply(JSON.parse(readFileSync(0, "utf8")))));
}
