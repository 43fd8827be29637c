// The app page's elements, looked up once by id (the page is parsed before a
// module runs), and the one way a message box is shown or cleared.

const $ = (id) => document.getElementById(id);

export const el = {
  signedInAs: $("signed-in-as"),
  signOut: $("sign-out"),
  main: $("main"),
  views: {
    login: $("view-login"),
    scan: $("view-scan"),
    link: $("link-view"),
    confirm: $("confirm"),
    pin: $("pin-view"),
    denied: $("denied-view"),
  },
  loginForm: $("login-form"),
  loginUsername: $("login-username"),
  loginPassword: $("login-password"),
  loginSubmit: $("login-submit"),
  loginError: $("login-error"),
  pendingNote: $("pending-note"),
  scanError: $("scan-error"),
  scanStatus: $("scan-status"),
  scanButton: $("scan-button"),
  cameraPanel: $("camera-panel"),
  camera: $("camera"),
  cameraStatus: $("camera-status"),
  cameraStop: $("camera-stop"),
  cameraError: $("camera-error"),
  pasteForm: $("paste-form"),
  pasteCode: $("paste-code"),
  pasteSubmit: $("paste-submit"),
  confirmService: $("confirm-service"),
  linkContinue: $("link-continue"),
  linkCancel: $("link-cancel"),
  confirmCheck: $("confirm-check"),
  confirmNetwork: $("confirm-network"),
  confirmBrowser: $("confirm-browser"),
  confirmIp: $("confirm-ip"),
  confirmTime: $("confirm-time"),
  confirmYes: $("confirm-yes"),
  confirmNo: $("confirm-no"),
  confirmError: $("confirm-error"),
  pinInstructions: $("pin-instructions"),
  pin: $("pin"),
  pinTimer: $("pin-timer"),
  pinCountdown: $("pin-countdown"),
  pinExpired: $("pin-expired"),
  pinDone: $("pin-done"),
  deniedDone: $("denied-done"),
};

/** An empty text hides the box, so no empty alert is ever announced. */
export function setMessage(node, text) {
  node.textContent = text || "";
  node.hidden = !text;
}
