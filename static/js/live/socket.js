// The live socket of a sitting: the protocol of docs/protocol.md on the client side.
//
// - On every (re)connect the server sends the full state; the socket keeps it (`state`) and the
//   sequence number of every stream it receives (`seqs`).
// - Every later event carries its stream and seq. The next seq is applied (its payload is a
//   partial state: its keys replace the state's; `voting.<part>` replaces `parts[<part>]`);
//   a gap or a lower number asks for the full state again instead.
// - A heartbeat ping every 15 s; no message at all for 40 s means a dead connection: reconnect.
// - Reconnects with exponential backoff and full jitter (so a hundred tablets do not return
//   at the same instant); not after 4401 (signed out) or 4403 (no access). After 4503 ("try
//   again later": the server is saturated) within the seconds its close reason gives, jittered.
//
// It is an EventTarget: "state" (detail: state), "event" (detail: message, already applied),
// "message" (every parsed message, for the voting panels), "reply" (acks, errors, pongs, replies),
// "status" (detail: {connected, code}). `window.councilLive` points at the page's socket.

const PING_MS = 15000;
const SILENCE_MS = 40000;
const BACKOFF_BASE_MS = 300;
const BACKOFF_CAP_MS = 8000;
const TRY_AGAIN = 4503;

// Full jitter up to base·2^attempt (capped); after a 4503, up to the server's hint when longer.
export function backoffDelay(attempt, hintMs = 0) {
  const bound = Math.max(BACKOFF_BASE_MS * 2 ** attempt, hintMs);
  return Math.random() * Math.min(BACKOFF_CAP_MS, bound);
}

// The retry window a 4503 close carries as its reason (seconds), in ms; 0 for any other close.
export function retryHintMs(code, reason) {
  if (code !== TRY_AGAIN) return 0;
  const seconds = Number.parseFloat(reason);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 5000;
}

export class LiveSocket extends EventTarget {
  constructor(path) {
    super();
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
    this.ws = null;
    this.state = null;
    this.seqs = {};
    this.attempt = 0;
    this.stopped = false;
    this.lastHeard = 0;
    this.timer = null;
    this.nextId = 1;
    this.incompleteTimer = null;
    this.incompleteAttempt = 0;
  }

  get lastState() {
    return this.state;
  }

  get connected() {
    return Boolean(this.ws && this.ws.readyState === WebSocket.OPEN && this.state);
  }

  start() {
    this.connect();
    this.timer = setInterval(() => this.heartbeat(), PING_MS);
    document.addEventListener("visibilitychange", () => {
      // A tablet waking up: check at once rather than at the next beat.
      if (document.visibilityState === "visible") this.heartbeat();
    });
    return this;
  }

  connect() {
    if (this.stopped) return;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.lastHeard = Date.now();
    });
    ws.addEventListener("message", (event) => {
      if (ws !== this.ws) return;
      this.lastHeard = Date.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.handle(message);
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.emit("status", { connected: false, code: event.code });
      if (event.code === 4401 || event.code === 4403 || this.stopped) return;
      const delay = backoffDelay(this.attempt++, retryHintMs(event.code, event.reason));
      setTimeout(() => this.connect(), delay);
    });
  }

  heartbeat() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastHeard > SILENCE_MS) {
      ws.close(4000, "silent");
      return;
    }
    ws.send('{"type":"ping"}');
  }

  handle(message) {
    if (message.type === "state") {
      this.state = message;
      this.seqs = { ...(message.seqs || { [message.stream]: message.seq }) };
      this.attempt = 0;
      // A state some part of which the server could not build (docs/protocol.md, "incomplete"):
      // shown as it is, and asked for again shortly, with backoff.
      clearTimeout(this.incompleteTimer);
      if (message.incomplete?.length) {
        const delay = 500 + backoffDelay(this.incompleteAttempt++);
        this.incompleteTimer = setTimeout(() => this.requestState("incomplete"), delay);
      } else {
        this.incompleteAttempt = 0;
      }
      this.emit("status", { connected: true, code: null });
      this.emit("state", message);
      this.emit("message", message);
      return;
    }
    const { stream, seq } = message;
    if (stream === undefined || seq === undefined) {
      this.applyReply(message);
      this.emit("reply", message);
      this.emit("message", message);
      return;
    }
    if (!this.state) return; // the state is on its way and includes this
    const last = this.seqs[stream] ?? 0;
    if (seq !== last + 1) {
      this.requestState(seq > last ? "gap" : "lower");
      return;
    }
    this.seqs[stream] = seq;
    this.state.seqs = { ...this.seqs };
    if (stream === this.state.stream) this.state.seq = seq;
    this.apply(message);
    this.emit("event", message);
    this.emit("message", message);
  }

  // The rules of docs/protocol.md ("Applying events"), as bench/protoclient.py applies them.
  apply(message) {
    const payload = message.payload || {};
    const [area, part] = message.type.split(".");
    if (message.type === "voting.tally") {
      const poll = this.state.parts?.poll?.poll;
      if (poll && poll.id === payload.poll) {
        poll.voted = payload.voted;
        if (poll.not_yet && payload.voters) {
          const gone = new Set(payload.voters);
          poll.not_yet = poll.not_yet.filter((p) => !gone.has(p.id));
        }
      }
      return;
    }
    if (area === "voting" && part) {
      this.state.parts = { ...(this.state.parts || {}), [part]: payload };
      return;
    }
    if (message.type === "presence.changed") return; // a notice; not part of the state
    for (const [key, value] of Object.entries(payload)) {
      if (key in this.state) this.state[key] = value;
    }
  }

  // Replies that change what concerns this user alone (`me`).
  applyReply(message) {
    if (message.type === "vote.receipt" && this.state?.me) {
      this.state.me.ballots = {
        ...(this.state.me.ballots || {}),
        [message.poll]: { receipt: message.receipt, choice: message.choice ?? null },
      };
    }
  }

  requestState(reason) {
    this.send({ type: "state.request", reason });
  }

  // Send a message; returns its id (replies carry it as `re`), or null when not connected.
  send(message) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return null;
    const id = message.id ?? `c${this.nextId++}`;
    ws.send(JSON.stringify({ ...message, id }));
    return id;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
