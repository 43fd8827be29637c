// The screens: which one is shown (one at a time, with the header's "Signed in
// as"), and what the confirm and PIN screens display. Data goes in as text only.
import { account } from "./account.js";
import { stopCamera } from "./camera.js";
import { startCountdown, stopCountdown } from "./countdown.js";
import { el, setMessage } from "./dom.js";
import { describeUserAgent, formatLocalTime, formatPin, networkNote, serviceHost } from "./format.js";

/** `name` is a key of el.views; leaving a screen stops what it was running. */
export function showView(name, focus = false) {
  for (const [key, view] of Object.entries(el.views)) view.hidden = key !== name;
  const acc = account();
  el.signedInAs.hidden = !acc;
  el.signOut.hidden = !acc;
  if (acc) {
    el.signedInAs.textContent = "";
    const strong = document.createElement("strong");
    strong.textContent = acc.full_name || acc.username || "";
    el.signedInAs.append("Signed in as ", strong);
    if (acc.username && acc.full_name) el.signedInAs.append(` (${acc.username})`);
  }
  if (name !== "scan") stopCamera();
  if (name !== "pin") stopCountdown();
  if (focus) {
    const view = el.views[name];
    const target = view.querySelector("[data-autofocus]") || view;
    if (!target.hasAttribute("tabindex") && target === view) view.tabIndex = -1;
    target.focus({ preventScroll: false });
  }
}

export function showHome(focus = false) {
  showView(account() ? "scan" : "login", focus);
}

/** An error replaces the "checking…" status rather than sitting under it. */
export function showScanError(text) {
  setMessage(el.scanStatus, "");
  setMessage(el.scanError, text);
}

function fillDetail(node, primary, secondary) {
  node.textContent = "";
  if (!primary && !secondary) {
    node.textContent = "Not reported by the service";
    return;
  }
  node.append(primary || secondary);
  if (primary && secondary && secondary !== primary) {
    const small = document.createElement("span");
    small.className = "ua-full";
    small.textContent = secondary;
    node.append(small);
  }
}

/** Who is asking, before any PIN: `login` is state.current. */
export function showConfirm(login) {
  const { service, requester } = login;
  const name = service.name || "this service";
  el.confirmService.textContent = "";
  const strong = document.createElement("strong");
  strong.textContent = name;
  el.confirmService.append("Log in to ", strong, "?");
  el.confirmCheck.textContent = "";
  // An OIDC login shows its QR code on Central Auth's own page.
  const host = serviceHost(login.login_page_url || service.url);
  if (host) {
    const shown = document.createElement("strong");
    shown.textContent = host;
    el.confirmCheck.append("Continue only if your browser shows ", shown, " in its address bar.");
  } else {
    el.confirmCheck.append("This service has no web address on record: check its name and the browser below.");
  }

  const ua = requester.user_agent || null;
  fillDetail(el.confirmBrowser, describeUserAgent(ua), ua);
  fillDetail(el.confirmIp, requester.ip || null, null);
  fillDetail(el.confirmTime, requester.requested_at ? formatLocalTime(requester.requested_at) : null, null);
  const note = networkNote(requester);
  el.confirmNetwork.textContent = note.text;
  el.confirmNetwork.classList.toggle("alert-warn", note.warn);
  el.confirmNetwork.classList.toggle("alert-info", !note.warn);
  el.confirmNetwork.hidden = false;
  setMessage(el.confirmError, "");
  el.confirmYes.disabled = false;
  el.confirmNo.disabled = false;
  showView("confirm", true);
}

/** `login` is state.current; the countdown runs until the screen is left. */
export function showPin(login) {
  const { pin, service } = login;
  const name = service.name || "the service";
  el.pinInstructions.textContent = `Type this code into ${name}.`;
  el.pin.textContent = formatPin(pin);
  el.pin.dataset.pin = pin;
  el.pin.classList.remove("is-expired");
  el.pinExpired.hidden = true;
  el.pinTimer.hidden = false;
  el.pinDone.textContent = "Done";
  showView("pin", true);
  startCountdown(login.deadline);
}
