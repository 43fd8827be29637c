// The sign-in form: trades username and password for the device's auth_key,
// then goes on with the QR token (or the login link) that was waiting for it.
import { saveAccount } from "./account.js";
import * as api from "./api.js";
import { el, setMessage } from "./dom.js";
import { signInErrorMessage } from "./messages.js";
import { showPendingLink } from "./link.js";
import { scanToken } from "./scan.js";
import { state } from "./state.js";
import { showView } from "./views.js";

/** The login form's submit handler. */
export async function submitSignIn(event) {
  event.preventDefault();
  if (state.busy) return;
  const username = el.loginUsername.value.trim().toLowerCase();
  const password = el.loginPassword.value;
  if (!username || !password) {
    setMessage(el.loginError, "Enter your username and password.");
    (username ? el.loginPassword : el.loginUsername).focus();
    return;
  }
  setMessage(el.loginError, "");
  state.busy = true;
  el.loginSubmit.disabled = true;
  el.loginSubmit.textContent = "Signing in…";
  const result = await api.signIn(username, password);
  state.busy = false;
  el.loginSubmit.disabled = false;
  el.loginSubmit.textContent = "Sign in";

  if (result.ok && result.data && result.data.auth_key) {
    saveAccount({
      auth_key: result.data.auth_key,
      user_id: result.data.user_id || null,
      username: result.data.username || username,
      full_name: result.data.full_name || "",
    });
    el.loginForm.reset();
    setMessage(el.loginError, "");
    el.pendingNote.hidden = true;
    if (showPendingLink()) return;
    if (state.pendingToken) {
      const token = state.pendingToken;
      state.pendingToken = null;
      showView("scan");
      await scanToken(token);
    } else {
      showView("scan", true);
      setMessage(el.scanStatus, "You are signed in. Scan a QR code to log in to a service.");
    }
    return;
  }

  setMessage(el.loginError, signInErrorMessage(result));
  el.loginError.focus();
  if (result.code === "invalid_credentials") el.loginPassword.value = "";
}
