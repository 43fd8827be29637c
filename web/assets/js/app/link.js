// A login link (/app#qr=TOKEN) opened from a message, a page or another app.
// Anybody can send such a link with a code of their own, so opening one sends
// nothing: the app first asks whether the person started a login, and only
// "Continue" scans the code (and even then the PIN waits for "Yes, it's me").
import { account } from "./account.js";
import { el } from "./dom.js";
import { extractToken } from "./qr-token.js";
import { handleCode, scanToken } from "./scan.js";
import { state } from "./state.js";
import { showHome, showView } from "./views.js";

/** The page was opened (or its address changed) with `#qr=…`. */
export function openLink(code) {
  const token = extractToken(code);
  if (!token) {
    // A broken link: the same message as a code that is not a login code.
    handleCode(code);
    return;
  }
  state.linkToken = token;
  state.pendingToken = null;
  if (!account()) {
    showView("login");
    el.pendingNote.hidden = false;
    el.loginUsername.focus();
    return;
  }
  showView("link", true);
}

/** After a sign-in: back to the question, if a link was waiting. */
export function showPendingLink() {
  if (!state.linkToken) return false;
  showView("link", true);
  return true;
}

export async function linkContinue() {
  const token = state.linkToken;
  state.linkToken = null;
  if (!token) {
    showHome(true);
    return;
  }
  await scanToken(token);
}

/** The code is left untouched: whoever sent it cannot tell it was opened. */
export function linkCancel() {
  state.linkToken = null;
  showHome(true);
}
