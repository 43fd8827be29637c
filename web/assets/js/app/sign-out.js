// Ending the device's session: forget the auth_key and go back to the sign-in
// screen, keeping a pending QR token so that signing in again carries on.
import { forgetAccount } from "./account.js";
import { stopCamera } from "./camera.js";
import { el, setMessage } from "./dom.js";
import { state } from "./state.js";
import { showView } from "./views.js";

/** `message` says why when the server, not the person, signed the device out. */
export function signOut(message) {
  stopCamera();
  forgetAccount();
  state.current = null;
  setMessage(el.scanError, "");
  setMessage(el.scanStatus, "");
  showView("login");
  setMessage(el.loginError, message || "");
  el.pendingNote.hidden = !state.pendingToken && !state.linkToken;
  if (message) el.loginError.focus();
  else el.loginUsername.focus();
}
