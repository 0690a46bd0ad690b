// Console start-up: who is signed in, then the live stream and the routed views.
import { api } from "./api.js";
import { connectLive, disconnectLive, onLiveState } from "./live.js";
import { route, startRouter, render } from "./router.js";
import { wireFleetEvents } from "./state.js";
import { boardView } from "./views/board.js";
import { loginView } from "./views/login.js";
import { providerView } from "./views/provider.js";
import { setupView } from "./views/setup.js";
import { testCallView } from "./views/test-call.js";

const UUID = "([0-9a-fA-F-]{36})";
route(/^\/$/, boardView, "board");
route(new RegExp(`^/providers/${UUID}$`), providerView, "board");
route(/^\/test-call$/, testCallView, "test-call");
route(/^\/setup$/, setupView, "setup");

const LIVE_TEXT = { live: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…", off: "Offline" };
let routerStarted = false;

function chrome(me) {
  const signedIn = Boolean(me);
  document.body.dataset.signedIn = signedIn ? "yes" : "no";
  for (const id of ["nav", "who", "sign-out", "live-state"]) document.getElementById(id).hidden = !signedIn;
  document.getElementById("who").textContent = signedIn ? me.username : "";
}

function signedIn(me) {
  chrome(me);
  wireFleetEvents();
  connectLive();
  if (routerStarted) render();
  else { routerStarted = true; startRouter(); }
}

function signedOut(notice) {
  disconnectLive();
  chrome(null);
  loginView(document.getElementById("main"), signedIn, notice);
}

onLiveState((state) => {
  const el = document.getElementById("live-state");
  el.textContent = LIVE_TEXT[state] || state;
  el.className = `live-state ${state === "live" ? "on" : state === "off" ? "off" : ""}`;
});

document.getElementById("sign-out").addEventListener("click", async () => {
  try { await api("DELETE", "/console/api/session"); } catch { /* signed out either way */ }
  signedOut("Signed out.");
});
window.addEventListener("console:signed-out", () => {
  if (document.body.dataset.signedIn === "yes") signedOut("Your session ended; sign in again.");
});

api("GET", "/console/api/session").then(signedIn).catch(() => signedOut());
