// Central Auth — the authenticator app (/app). This entry module only wires
// the page's buttons and forms to the modules in ./app/ and starts the app.
//
// Sign in once (POST /api/mobile/login) → the device's auth_key is kept in
// localStorage. Scan a login QR code (camera + jsQR, a pasted link, or the
// page opened at /app#qr=TOKEN, which first asks whether the person started a
// login) → POST /api/auth/qr/scan → show who is asking
// → "Yes" shows the PIN with a countdown, "No" denies the login
// (POST /api/auth/qr/deny).
//
// Plain ES2020 modules, no framework, no bundler; data reaches the page only
// through textContent. A new module in ./app/ must also go into /app/sw.js's
// SHELL (or the app will not start offline) and into /app's modulepreload list.
import { cameraRunning, startCamera, stopCamera } from "./app/camera.js";
import { confirmNo, confirmYes } from "./app/confirm.js";
import { el } from "./app/dom.js";
import { linkCancel, linkContinue, openLink } from "./app/link.js";
import { enableOfflineShell } from "./app/offline.js";
import { takeCodeFromAddress } from "./app/qr-token.js";
import { handleCode, submitPaste } from "./app/scan.js";
import { submitSignIn } from "./app/sign-in.js";
import { signOut } from "./app/sign-out.js";
import { state } from "./app/state.js";
import { showHome } from "./app/views.js";

function openFromAddress() {
  const code = takeCodeFromAddress();
  if (code !== null) openLink(code);
}

el.loginForm.addEventListener("submit", submitSignIn);
el.signOut.addEventListener("click", () => signOut());

el.scanButton.addEventListener("click", () => startCamera(handleCode));
el.cameraStop.addEventListener("click", () => {
  stopCamera();
  el.scanButton.focus();
});
// Do not keep the camera running in a background tab.
document.addEventListener("visibilitychange", () => {
  if (document.hidden && cameraRunning()) stopCamera();
});
el.pasteForm.addEventListener("submit", submitPaste);

el.linkContinue.addEventListener("click", linkContinue);
el.linkCancel.addEventListener("click", linkCancel);
el.confirmYes.addEventListener("click", confirmYes);
el.confirmNo.addEventListener("click", confirmNo);
el.pinDone.addEventListener("click", () => {
  state.current = null;
  showHome(true);
});
el.deniedDone.addEventListener("click", () => showHome(true));

// A link opened while the app is already showing (/app#qr=… again).
window.addEventListener("hashchange", openFromAddress);
enableOfflineShell();

showHome();
openFromAddress();
