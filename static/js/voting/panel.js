// Voting panels: the chair's/clerk's console (roll, remote attendance, floor, votes) and a
// member's tablet (quorum, speaker, ask for the floor, attend online, vote). The server owns
// every rule; these panels only show its state and send requests.
import { openChannel } from "./channel.js";

const root = document.querySelector("[data-voting-panel]");
if (root && !root.dataset.started) {
  root.dataset.started = "1";
  start(root);
}

function start(root) {
  const mode = root.dataset.votingPanel; // "console" | "reader"
  const sittingId = root.dataset.sittingId;
  const me = Number(root.dataset.personId) || null;
  const isChair = root.dataset.chair === "1";
  const keepsRoll = root.dataset.keepsRoll === "1";
  const T = JSON.parse(document.getElementById("voting-strings").textContent);
  // In the reader, voting takes no space until needed: the poll raises a sheet over the page,
  // an attendance action is a banner; the rest (quorum, floor) is in the chamber sheet.
  const floating = mode === "reader" && !root.dataset.standalone;
  const voteSheet = root.querySelector("#vote-sheet");
  const banner = root.querySelector("#attend-banner");
  const RESULT_SECONDS = 6;
  const seenOpen = new Set(); // polls this tablet saw open: their result is shown, then the sheet goes
  let resultTimer = null;
  let dismissed = null; // the poll whose sheet the member closed
  let bannerDismissed = "";
  if (floating) {
    const toggle = root.querySelector(".chamber-toggle");
    const slot = document.querySelector(".reader-bar [data-slot=end]");
    if (toggle && slot) slot.append(toggle);
  }
  const $ = (name) => root.querySelector(`[data-voting="${name}"]`);
  const state = { attendance: null, quorum: null, floor: null, poll: null, tally: null };
  let nextId = 1;
  const pending = new Map();

  const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_m, key) => String(values[key] ?? ""));
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child.nodeType ? child : String(child));
    }
    return node;
  };
  const button = (label, onclick, cls = "btn") => el("button", { type: "button", class: cls, onclick }, label);
  // 3番 山田太郎 for a member; 町長 五十嵐正 for an official (no seat) on the roll or at the floor.
  const nameOf = (p) => `${p.seat ? fmt(T.seat, { n: p.seat }) + " " : p.title ? `${p.title} ` : ""}${p.name}`;

  const channel = openChannel(sittingId, onMessage, (up) => showError(up ? "" : T.connection_lost));

  function send(message) {
    const id = `v${nextId++}`;
    channel.send({ ...message, id });
    return new Promise((resolve) => pending.set(id, resolve));
  }

  function showError(text) {
    const box = $("error");
    if (!box) return;
    box.textContent = text || "";
    box.hidden = !text;
  }

  function onMessage(msg) {
    if (msg.re && pending.has(msg.re)) {
      pending.get(msg.re)(msg);
      pending.delete(msg.re);
    }
    if (msg.type === "error") {
      showError(msg.message);
      return;
    }
    if (msg.type === "state" && msg.parts) {
      for (const key of ["attendance", "quorum", "floor", "poll"]) {
        if (msg.parts[key]) state[key] = msg.parts[key];
      }
      state.me = msg.me || null; // who I am here and my own ballots: changed only by my own replies
      state.tally = null;
      render();
      return;
    }
    if (msg.type === "session.status" && (state.floor?.queue || []).some((t) => !t.waiting_since)) {
      // The sitting opened: the turns queued ahead of it (a published order) start waiting now.
      channel.send({ type: "state.request", reason: "status" });
      return;
    }
    if (!msg.type || !msg.type.startsWith("voting.")) return;
    const part = msg.type.slice("voting.".length);
    // The console receives both the members' and the clerks' streams: keep the clerks' view.
    if (mode === "console" && msg.stream === "members" && ["attendance", "poll", "tally"].includes(part)) return;
    if (part === "tally") {
      state.tally = msg.payload;
      const poll = state.poll?.poll;
      if (poll && poll.id === msg.payload.poll && poll.not_yet) {
        const voted = new Set(msg.payload.voters || []);
        poll.not_yet = poll.not_yet.filter((n) => !voted.has(n.id));
      }
    } else if (part in state) {
      state[part] = msg.payload;
      if (part === "poll") state.tally = null;
    }
    render();
  }

  function render() {
    renderQuorum();
    renderFloor();
    renderPoll();
    if (mode === "console") {
      renderRoll();
      renderRemote();
    } else {
      renderMyAttendance();
    }
  }

  function renderQuorum() {
    const q = state.quorum;
    const box = $("quorum");
    if (!q || !box) return;
    box.className = `voting-quorum ${q.met ? "is-met" : "is-short"}`;
    box.textContent = q.reason;
  }

  function renderFloor() {
    const f = state.floor;
    if (!f) return;
    const speaker = $("speaker");
    if (speaker) {
      speaker.replaceChildren(
        f.speaker
          ? el("span", { class: "voting-speaking" }, `${T.speaker}: ${nameOf(f.speaker.person)}`,
              f.speaker.remote ? ` (${T.online})` : "",
              mode === "console" && isChair ? button(T.end_turn, () => send({ type: "floor.end" })) : null)
          : T.nobody,
      );
    }
    const queue = $("queue");
    if (queue) {
      queue.replaceChildren(...(f.queue || []).map((turn) => el("li", { "data-turn": turn.id },
        el("span", { class: "voting-name" }, nameOf(turn.person), turn.remote ? ` (${T.online})` : ""),
        el("span", { class: "voting-wait", "data-since": turn.waiting_since ?? "" }, waited(turn.waiting_since)),
        isChair ? button(T.grant, () => send({ type: "floor.grant", turn_id: turn.id }), "btn btn-primary") : null,
        isChair ? button(T.skip, () => send({ type: "floor.skip", turn_id: turn.id })) : null,
      )));
    }
    const floorButton = root.querySelector('[data-voting-action="floor"]');
    if (floorButton) {
      const queued = (f.queue || []).findIndex((t) => t.person.id === me);
      const speaking = f.speaker && f.speaker.person.id === me;
      floorButton.hidden = speaking;
      floorButton.textContent = queued >= 0 ? T.withdraw : T.request_floor;
      floorButton.dataset.waiting = queued >= 0 ? "1" : "";
      const status = $("floor-status");
      if (status) status.textContent = speaking ? T.speaker : queued >= 0 ? fmt(T.in_queue, { n: queued + 1 }) : "";
    }
  }

  // The server says since when each turn waits (selectors.waiting_since): from its queueing, not
  // before the sitting really opened; nothing before the opening.
  function waited(iso) {
    if (!iso) return "";
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return `${T.waiting} ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }
  setInterval(() => {
    for (const span of root.querySelectorAll("[data-since]")) span.textContent = waited(span.dataset.since);
  }, 1000);

  function resultLine(p) {
    const label = p.outcome_label || (p.outcome === "carried" ? T.carried : T.rejected);
    const parts = [`${T.result}: ${label}`];
    if (p.method !== "no_objection" || p.outcome !== "objected") parts.push(`${T.yes} ${p.yes} / ${T.no} ${p.no}`);
    const box = el("div", { class: `voting-result is-${p.outcome}`, "data-outcome": p.outcome }, parts.join(" — "));
    if (p.casting_vote) box.append(el("p", {}, T.casting_recorded));
    if (p.names) {
      box.append(el("ul", { class: "voting-names" }, p.names.map((n) =>
        el("li", { "data-choice": n.choice }, `${nameOf(n)}: ${n.choice === "yes" ? T.yes : T.no}`))));
    }
    return box;
  }

  function tokenFor(pollId) {
    const key = `voting-token-${pollId}-${me}`;
    let token = sessionStorage.getItem(key);
    if (!token) {
      token = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
      sessionStorage.setItem(key, token);
    }
    return token;
  }

  let confirming = null; // the choice awaiting the member's confirmation

  async function castVote(poll, choice, memberId = null) {
    confirming = null;
    const message = { type: "vote.cast", poll_id: poll.id, choice, token: memberId ? `clerk-${poll.id}-${memberId}` : tokenFor(poll.id) };
    if (memberId) message.member_id = memberId;
    const reply = await send(message);
    if (reply.type === "vote.receipt" && memberId === null) {
      // As docs/protocol.md says: a receipt adds the ballot to `me.ballots`.
      state.me = state.me || { ballots: {} };
      state.me.ballots = { ...(state.me.ballots || {}), [reply.poll]: { receipt: reply.receipt, choice: reply.choice || null } };
      showError("");
      renderPoll();
    }
  }

  function showVoteSheet(p) {
    if (!floating || !voteSheet) return;
    const live = p && ["open", "counting"].includes(p.state);
    if (live) seenOpen.add(p.id);
    const settled = p && !live && (p.state === "declared" || p.outcome === "objected");
    let show = false;
    if (live) show = true;
    else if (p && seenOpen.has(p.id) && dismissed !== p.id) {
      show = true;
      if (settled && !resultTimer) {
        resultTimer = setTimeout(() => { resultTimer = null; dismissed = p.id; voteSheet.hidden = true; }, RESULT_SECONDS * 1000);
      }
    }
    if (live && resultTimer) { clearTimeout(resultTimer); resultTimer = null; }
    // The ballot comes first: a bottom sheet the member had open (page thumbnails) gives way.
    if (show && voteSheet.hidden) window.councilReader?.toggleSheet?.("thumbs", false);
    voteSheet.hidden = !show;
    const close = voteSheet.querySelector("[data-action=vote-sheet-close]");
    if (close) close.hidden = live;
    document.getElementById("reader")?.classList.toggle("has-vote-sheet", show);
  }

  voteSheet?.querySelector("[data-action=vote-sheet-close]")?.addEventListener("click", () => {
    dismissed = state.poll?.poll?.id ?? null;
    voteSheet.hidden = true;
    document.getElementById("reader")?.classList.remove("has-vote-sheet");
  });

  function renderPoll() {
    const box = $("poll");
    if (!box || !state.poll) return;
    const p = state.poll.poll;
    showVoteSheet(p);
    if (!p) {
      box.replaceChildren(el("p", { class: "voting-idle" }, T.no_vote));
      return;
    }
    const head = el("div", { class: "voting-poll-head" },
      el("strong", {}, `${p.item || ""} ${p.motion}`), el("span", {}, ` — ${p.method_label}`),
      p.requirement ? el("small", { class: "voting-requirement" }, ` (${p.requirement})`) : null);
    const children = [head];
    const tally = state.tally && state.tally.poll === p.id ? state.tally : null;
    const voted = tally ? tally.voted : p.voted;
    const entitled = tally ? tally.entitled : p.entitled_count;
    if (p.state === "open") {
      children.push(el("p", { class: "voting-open", "data-voted": voted }, T.vote_open, " — ",
        ["roll_call", "secret"].includes(p.method) ? fmt(T.voted_count, { voted, entitled }) : ""));
      if (mode === "reader") children.push(...ballotControls(p));
      else children.push(...consoleControls(p, tally));
    } else if (p.state === "counting") {
      children.push(el("p", {}, T.counting));
    } else if (p.outcome === "objected") {
      children.push(el("p", { class: "voting-result is-objected", "data-outcome": "objected" }, T.objected));
    } else if (p.outcome) {
      children.push(resultLine(p));
      if (mode === "console" && isChair && p.state === "closed") {
        if (p.outcome === "tie") {
          children.push(el("p", {}, T.casting),
            button(T.yes, () => send({ type: "vote.casting", poll_id: p.id, choice: "yes" })),
            button(T.no, () => send({ type: "vote.casting", poll_id: p.id, choice: "no" })));
        } else {
          children.push(button(T.declare, () => send({ type: "vote.declare", poll_id: p.id }), "btn btn-primary"));
        }
      }
    } else if (p.state === "closed") {
      children.push(el("p", {}, T.counting));
    }
    box.replaceChildren(...children);
  }

  function ballotControls(p) {
    const mine = state.me?.ballots?.[p.id] || {};
    const entitled = (p.entitled || []).includes(me);
    if (!entitled) return [el("p", { class: "voting-note" }, T.not_entitled)];
    // Standing, hands, no objection: what is asked and what to do, in the room or online.
    const online = (state.attendance?.roll || []).some((r) => r.id === me && r.status === "present_online");
    const told = p.instructions?.[online ? "online" : "room"];
    const instructions = told ? el("p", { class: "voting-instructions", "data-voting": "instructions" }, told) : null;
    if (p.method === "no_objection") {
      return [instructions, button(T.object, () => send({ type: "objection.raise", poll_id: p.id }), "btn btn-large")];
    }
    if (!["roll_call", "secret"].includes(p.method)) return instructions ? [instructions] : [];
    if (mine.receipt) {
      return [el("p", { class: "voting-receipt", "data-receipt": mine.receipt || "" },
        fmt(T.voted, { receipt: mine.receipt || "" }))];
    }
    if (confirming) {
      // One more tap, because a ballot can never be changed.
      const label = confirming === "yes" ? T.yes : T.no;
      return [el("div", { class: "voting-confirm", role: "group" },
        el("p", {}, fmt(T.confirm_vote, { choice: label })),
        button(label, () => castVote(p, confirming), `btn btn-large btn-${confirming}`),
        button(T.cancel, () => { confirming = null; renderPoll(); }, "btn btn-large"))];
    }
    const choose = (choice) => () => { confirming = choice; renderPoll(); };
    return [el("div", { class: "voting-choices" },
      button(T.yes, choose("yes"), "btn btn-large btn-yes"),
      button(T.no, choose("no"), "btn btn-large btn-no"))];
  }

  function consoleControls(p, tally) {
    const out = [];
    if (!isChair) return out;
    if (["standing", "hands"].includes(p.method)) {
      const form = el("form", { class: "voting-form voting-counts" },
        el("label", {}, T.yes, " ", el("input", { type: "number", name: "yes", min: "0", required: "" })),
        el("label", {}, T.no, " ", el("input", { type: "number", name: "no", min: "0", required: "" })),
        el("button", { type: "submit", class: "btn btn-primary" }, T.enter_counts));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const f = form.elements;
        send({ type: "vote.counts", poll_id: p.id, yes: Number(f.namedItem("yes").value), no: Number(f.namedItem("no").value) });
      });
      out.push(form);
    } else {
      const notYet = p.not_yet || [];
      if (notYet.length) {
        out.push(el("p", {}, `${T.not_yet}:`), el("ul", { class: "voting-not-yet" }, notYet.map((n) =>
          el("li", { "data-person": n.id }, nameOf(n),
            keepsRoll && p.method === "roll_call"
              ? el("span", { class: "voting-record", title: T.record_for },
                  button(T.yes, () => castVote(p, "yes", n.id)), button(T.no, () => castVote(p, "no", n.id)))
              : null))));
      }
      out.push(button(T.close, () => send({ type: "vote.close", poll_id: p.id }), "btn btn-primary"));
    }
    return out;
  }

  function renderRoll() {
    const body = $("roll");
    if (!body || !state.attendance?.roll) return;
    const template = root.querySelector('[data-voting-template="mark"]');
    body.replaceChildren(...state.attendance.roll.map((r) => {
      const row = el("tr", { "data-person": r.id, "data-status": r.status },
        el("td", {}, r.seat ?? ""), el("td", {}, r.name, r.title ? ` (${r.title})` : ""),
        el("td", {}, r.status_label));
      if (keepsRoll && template) {
        const form = template.content.firstElementChild.cloneNode(true);
        const f = form.elements;
        f.namedItem("status").value = r.status;
        f.namedItem("reason").value = r.reason || "";
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          send({ type: "attendance.mark", person_id: r.id, status: f.namedItem("status").value, reason: f.namedItem("reason").value });
        });
        row.append(el("td", {}, form));
      }
      if (isChair && r.status === "present_online") {
        row.lastChild.append(button(T.disconnect, () => send({ type: "remote.disconnect", person_id: r.id })));
      }
      return row;
    }));
  }

  function renderRemote() {
    const list = $("remote");
    const a = state.attendance;
    if (!list || !a) return;
    const checkTemplate = root.querySelector('[data-voting-template="check"]');
    list.replaceChildren(...(a.remote_requests || []).map((r) => {
      const item = el("li", { "data-request": r.id, "data-decision": r.decision },
        el("strong", {}, nameOf(r.person)), ` — ${r.reason} — ${r.decision_label}`,
        r.check ? ` — ${r.check.method_label}: ${r.check.passed ? T.passed : T.failed}` : "");
      if (isChair && r.decision === "pending") {
        item.append(button(T.approve, () => send({ type: "remote.decide", request_id: r.id, approve: true })),
          button(T.refuse, () => send({ type: "remote.decide", request_id: r.id, approve: false })));
      }
      if (keepsRoll && r.decision === "approved" && checkTemplate) {
        const form = checkTemplate.content.firstElementChild.cloneNode(true);
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          const f = form.elements;
          send({ type: "remote.check", request_id: r.id, method: f.namedItem("method").value, passed: f.namedItem("passed").checked });
        });
        item.append(form);
      }
      return item;
    }));
    const exclusions = $("exclusions");
    if (exclusions) {
      exclusions.replaceChildren(...(a.exclusions || []).map((x) => el("li", { "data-exclusion": x.id },
        `${x.item} ${nameOf(x.person)} — ${x.reason}`,
        isChair ? button(T.remove, () => send({ type: "exclusion.remove", exclusion_id: x.id })) : null)));
    }
    const speakers = $("speaker-options");
    if (speakers && a.roll) {
      const chosen = speakers.value;
      speakers.replaceChildren(...a.roll.filter((r) => r.role !== "secretariat" && r.status !== "absent").map((r) =>
        el("option", { value: r.id }, r.role === "official" ? `${r.title || ""} ${r.name}` : nameOf(r))));
      if (chosen) speakers.value = chosen;
    }
    const options = $("member-options");
    if (options && a.roll) {
      const chosen = options.value;
      options.replaceChildren(...a.roll.filter((r) => r.role === "member").map((r) =>
        el("option", { value: r.id }, nameOf(r))));
      if (chosen) options.value = chosen;
    }
    const suggestions = $("suggestions");
    if (suggestions) {
      suggestions.replaceChildren(...(a.suggestions || []).map((s) => el("li", { "data-suggestion": s.id },
        `${s.name} ${s.event === "joined" ? T.joined : T.left_call}`,
        keepsRoll && s.person ? button(T.accept, () => send({ type: "suggestion.decide", suggestion_id: s.id, accept: true })) : null,
        keepsRoll ? button(T.dismiss, () => send({ type: "suggestion.decide", suggestion_id: s.id, accept: false })) : null)));
    }
  }

  function renderMyAttendance() {
    const a = state.attendance;
    const status = $("remote-status");
    if (!a || !status || !me) return;
    const mine = (a.roll || []).find((r) => r.id === me);
    const request = (a.remote || []).find((r) => r.person === me);
    const apply = root.querySelector('[data-voting-form="remote-apply"]');
    const checkin = root.querySelector('[data-voting-action="checkin"]');
    const checkout = root.querySelector('[data-voting-action="checkout"]');
    apply.hidden = checkin.hidden = checkout.hidden = true;
    let text = root.dataset.plenary === "1" ? T.remote_not_counted : "";
    let need = ""; // what the banner is for; "" when nothing is needed of the member
    if (mine && mine.status === "present_online") {
      text = `${T.you_online} ${text}`;
      checkout.hidden = false;
    } else if (mine && mine.status === "present_room") {
      need = "";
    } else if (!request || request.decision === "withdrawn") {
      apply.hidden = false;
      need = "apply";
    } else if (request.decision === "pending") {
      text = T.pending;
      need = "pending";
    } else if (request.decision === "refused") {
      text = T.refused_remote;
      apply.hidden = false;
      need = "refused";
    } else if (request.disconnected) {
      text = T.disconnected;
      need = "disconnected";
    } else if (!request.checked) {
      text = T.approved_wait;
      need = "approved";
    } else {
      checkin.hidden = false;
      need = "checkin";
    }
    status.textContent = text.trim();
    if (banner) {
      // A new need (e.g. check-in became possible) shows the banner again after "not now".
      banner.hidden = !need || need === bannerDismissed;
      banner.dataset.need = need;
      const again = root.querySelector("[data-action=attend-show]");
      if (again) again.hidden = !need || !banner.hidden;
    }
  }

  banner?.querySelector("[data-action=attend-dismiss]")?.addEventListener("click", () => {
    bannerDismissed = banner.dataset.need || "";
    renderMyAttendance();
  });
  root.querySelector("[data-action=attend-show]")?.addEventListener("click", () => {
    bannerDismissed = "";
    renderMyAttendance();
  });

  // Member actions.
  root.querySelector('[data-voting-action="floor"]')?.addEventListener("click", (event) => {
    send({ type: event.currentTarget.dataset.waiting ? "floor.withdraw" : "floor.request" });
  });
  root.querySelector('[data-voting-action="checkin"]')?.addEventListener("click", () => send({ type: "attendance.checkin" }));
  root.querySelector('[data-voting-action="checkout"]')?.addEventListener("click", () => send({ type: "attendance.checkout" }));
  root.querySelector('[data-voting-form="remote-apply"]')?.addEventListener("submit", (event) => {
    event.preventDefault();
    send({ type: "remote.apply", reason: event.currentTarget.elements.namedItem("reason").value });
  });
  // Console actions.
  root.querySelector('[data-voting-form="give"]')?.addEventListener("submit", (event) => {
    event.preventDefault();
    send({ type: "floor.give", person_id: Number(event.currentTarget.elements.namedItem("person_id").value) });
  });
  root.querySelector('[data-voting-form="exclusion"]')?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.currentTarget.elements;
    const reply = await send({ type: "exclusion.add", agenda_item_id: Number(f.namedItem("agenda_item_id").value),
      person_id: Number(f.namedItem("person_id").value), reason: f.namedItem("reason").value });
    if (reply.type !== "error") {
      showError("");
      f.namedItem("reason").value = "";
    }
  });
  root.querySelector('[data-voting-action="prepare"]')?.addEventListener("click", () => send({ type: "attendance.prepare" }));
  // 全員出席 in one action; the clerk then marks the exceptions on the roll.
  root.querySelector('[data-voting-action="all-present"]')?.addEventListener("click", () => send({ type: "attendance.all_present" }));
  // An official (説明員) or secretariat staff joins the roll as present (they never vote or count for quorum).
  root.querySelector('[data-voting-form="attendee"]')?.addEventListener("submit", (event) => {
    event.preventDefault();
    const personId = Number(event.currentTarget.elements.namedItem("person_id").value);
    send({ type: "attendance.mark", person_id: personId, status: "present_room" });
  });
  root.querySelector('[data-voting-form="motion"]')?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.currentTarget.elements;
    const motion = { type: "motion.create", agenda_item_id: Number(f.namedItem("agenda_item_id").value), title: f.namedItem("title").value };
    if (f.namedItem("preset").value !== "ordinary") motion.preset = f.namedItem("preset").value;
    const created = await send(motion);
    if (created.type !== "motion.created") return;
    const opened = await send({ type: "vote.open", motion_id: created.motion, method: f.namedItem("method").value });
    if (opened.type === "vote.opened") {
      showError("");
      f.namedItem("title").value = "";
    }
  });
}
