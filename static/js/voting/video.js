// The video call of a sitting: Jitsi Meet's IFrame API loaded from the body's own server.
// On the clerk's console, join and leave events are posted as attendance suggestions; the
// clerk accepts or dismisses each one (nothing is applied to the roll by this page).
const config = JSON.parse(document.getElementById("voting-video-config").textContent);
const holder = document.getElementById("voting-video");

function suggest(event, displayName) {
  if (!config.suggest) return;
  fetch(holder.dataset.suggestUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": holder.dataset.csrf },
    body: JSON.stringify({ event, display_name: displayName || "" }),
  }).catch((err) => console.error("voting: suggestion not sent", err));
}

const script = document.createElement("script");
script.src = config.script;
script.addEventListener("load", () => {
  // eslint-disable-next-line no-undef
  const api = new JitsiMeetExternalAPI(config.domain, {
    roomName: config.room,
    parentNode: holder,
    userInfo: { displayName: config.displayName },
    configOverwrite: { prejoinPageEnabled: false },
  });
  const names = new Map();
  api.addListener("participantJoined", ({ id, displayName }) => {
    names.set(id, displayName);
    suggest("joined", displayName);
  });
  api.addListener("displayNameChange", ({ id, displayname }) => names.set(id, displayname));
  api.addListener("participantLeft", ({ id }) => suggest("left", names.get(id)));
});
script.addEventListener("error", () => {
  document.querySelector('[data-voting="video-error"]').hidden = false;
});
document.head.append(script);
