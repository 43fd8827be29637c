// Turning a login code (from the camera, the paste box or the address) into
// the login to confirm: POST /api/auth/qr/scan, or the reason it failed.
import { account } from "./account.js";
import * as api from "./api.js";
import { stopCamera } from "./camera.js";
import { el, setMessage } from "./dom.js";
import { INVALID_KEY_MESSAGE, NOT_A_LOGIN_CODE_MESSAGE, scanErrorMessage } from "./messages.js";
import { extractToken } from "./qr-token.js";
import { signOut } from "./sign-out.js";
import { state } from "./state.js";
import { showConfirm, showScanError, showView } from "./views.js";

/** Takes a token from the camera, the paste box or the page address. */
export async function handleCode(text) {
  const token = extractToken(text);
  if (!token) {
    if (account()) {
      showView("scan");
      showScanError(NOT_A_LOGIN_CODE_MESSAGE);
      el.scanError.focus();
    } else {
      showView("login");
      setMessage(el.loginError, NOT_A_LOGIN_CODE_MESSAGE);
    }
    return;
  }
  if (!account()) {
    state.pendingToken = token;
    showView("login");
    el.pendingNote.hidden = false;
    el.loginUsername.focus();
    return;
  }
  await scanToken(token);
}

export async function scanToken(token) {
  if (state.busy) return;
  state.linkToken = null;
  const acc = account();
  if (!acc) {
    state.pendingToken = token;
    signOut();
    return;
  }
  state.busy = true;
  showView("scan");
  setMessage(el.scanError, "");
  setMessage(el.scanStatus, "Checking the login code…");
  el.scanButton.disabled = true;
  el.pasteSubmit.disabled = true;
  const received = Date.now();
  const result = await api.scanQr(token, acc.auth_key);
  state.busy = false;
  el.scanButton.disabled = false;
  el.pasteSubmit.disabled = false;
  setMessage(el.scanStatus, "");

  if (result.ok && result.data && result.data.pin) {
    const data = result.data;
    // Count down from what the server says is left, so that a phone whose
    // clock is off still shows the right time.
    let deadline = Number.NaN;
    if (typeof data.expires_in === "number") deadline = received + data.expires_in * 1000;
    if (!Number.isFinite(deadline)) deadline = Date.parse(data.expires_at);
    state.current = {
      token,
      pin: String(data.pin),
      deadline,
      service: data.service || {},
      requester: data.requester || {},
      login_page_url: data.login_page_url || null,
    };
    el.pasteCode.value = "";
    showConfirm(state.current);
    return;
  }

  if (result.code === "invalid_auth_key") {
    // The key was replaced by a sign-in on another device (or revoked):
    // sign in again here, then carry on with the same QR code.
    state.pendingToken = token;
    signOut(INVALID_KEY_MESSAGE);
    return;
  }
  showScanError(scanErrorMessage(result));
  el.scanError.focus();
}

/** The paste box's submit handler: the fallback when there is no camera. */
export async function submitPaste(event) {
  event.preventDefault();
  const text = el.pasteCode.value;
  if (!text.trim()) {
    showScanError("Paste the link from the QR code, or the code itself.");
    el.pasteCode.focus();
    return;
  }
  stopCamera();
  await handleCode(text);
}
