// The answer on the confirm screen: "Yes" shows the PIN, "No" blocks the login
// (POST /api/auth/qr/deny) so that nobody can use that QR code any more.
import { account } from "./account.js";
import * as api from "./api.js";
import { el, setMessage } from "./dom.js";
import { denyErrorMessage, INVALID_KEY_MESSAGE } from "./messages.js";
import { signOut } from "./sign-out.js";
import { state } from "./state.js";
import { showPin, showView } from "./views.js";

export function confirmYes() {
  if (!state.current) return;
  showPin(state.current);
}

export async function confirmNo() {
  if (!state.current || state.busy) return;
  const acc = account();
  state.busy = true;
  el.confirmYes.disabled = true;
  el.confirmNo.disabled = true;
  el.confirmNo.textContent = "Blocking…";
  const result = acc
    ? await api.denyQr(state.current.token, acc.auth_key)
    : { ok: false, status: 401, code: "invalid_auth_key", data: null };
  state.busy = false;
  el.confirmNo.textContent = "No, this wasn't me";
  el.confirmYes.disabled = false;
  el.confirmNo.disabled = false;

  if (result.ok) {
    state.current = null;
    showView("denied", true);
    return;
  }
  if (result.code === "invalid_auth_key") {
    state.current = null;
    signOut(INVALID_KEY_MESSAGE);
    return;
  }
  setMessage(el.confirmError, denyErrorMessage(result));
}
