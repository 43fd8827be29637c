// Central Auth — the authenticator app (/app).
//
// Sign in once (POST /api/mobile/login) → the device's auth_key is kept in
// localStorage. Scan a login QR code (camera + jsQR, a pasted link, or the
// page opened at /app#qr=TOKEN) → POST /api/auth/qr/scan → show who is asking
// → "Yes" shows the PIN with a countdown, "No" denies the login
// (POST /api/auth/qr/deny).
//
// Plain ES2020, no framework; data reaches the page only through textContent.
"use strict";

(() => {
  const STORAGE_KEY = "central-auth";
  const $ = (id) => document.getElementById(id);

  const el = {
    signedInAs: $("signed-in-as"),
    signOut: $("sign-out"),
    main: $("main"),
    views: {
      login: $("view-login"),
      scan: $("view-scan"),
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
    confirmServiceUrl: $("confirm-service-url"),
    confirmWarning: $("confirm-warning"),
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

  /** A QR token waiting for a sign-in (the page was opened at /app#qr=…). */
  let pendingToken = null;
  /** The login being confirmed: {token, pin, deadline, service, requester}. */
  let current = null;
  let busy = false;

  // ---- Storage -----------------------------------------------------------

  function loadAccount() {
    try {
      const raw = window.localStorage.getItem(STORAGE_KEY);
      if (!raw) return null;
      const account = JSON.parse(raw);
      if (account && typeof account.auth_key === "string" && account.auth_key) return account;
    } catch (_err) {
      // Unreadable or unavailable storage: treat as signed out.
    }
    return null;
  }

  function saveAccount(account) {
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(account));
    } catch (_err) {
      // Private mode without storage: the key lives only as long as the page.
    }
    memoryAccount = account;
  }

  function forgetAccount() {
    try {
      window.localStorage.removeItem(STORAGE_KEY);
    } catch (_err) {
      // Nothing to forget.
    }
    memoryAccount = null;
  }

  let memoryAccount = loadAccount();
  const account = () => loadAccount() || memoryAccount;

  // ---- HTTP --------------------------------------------------------------

  const postJson = window.postJson; // from /assets/js/http.js

  // ---- Formatting --------------------------------------------------------

  function formatLocalTime(iso) {
    const date = new Date(iso);
    if (!iso || Number.isNaN(date.getTime())) return null;
    const options = {
      weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    };
    try {
      return new Intl.DateTimeFormat(undefined, options).format(date);
    } catch (_err) {
      return date.toLocaleString();
    }
  }

  function closedMessage(what, data) {
    const opens = data && data.opens_at ? formatLocalTime(data.opens_at) : null;
    return opens
      ? `${what} is closed outside operating hours. It opens again ${opens}.`
      : `${what} is closed outside operating hours. Please try again later.`;
  }

  function retryMessage(retryAfter) {
    const wait = Number.parseInt(retryAfter || "", 10);
    return Number.isFinite(wait) && wait > 0
      ? `Too many attempts. Please wait ${wait} second${wait === 1 ? "" : "s"} and try again.`
      : "Too many attempts. Please wait a moment and try again.";
  }

  function describeUserAgent(ua) {
    if (!ua) return null;
    let browser = null;
    if (/Edg(e|A|iOS)?\//.test(ua)) browser = "Edge";
    else if (/OPR\/|Opera/.test(ua)) browser = "Opera";
    else if (/SamsungBrowser\//.test(ua)) browser = "Samsung Internet";
    else if (/Firefox\/|FxiOS\//.test(ua)) browser = "Firefox";
    else if (/Chrome\/|CriOS\/|Chromium\//.test(ua)) browser = "Chrome";
    else if (/Safari\//.test(ua) && /Version\//.test(ua)) browser = "Safari";
    let os = null;
    if (/Windows/.test(ua)) os = "Windows";
    else if (/Android/.test(ua)) os = "Android";
    else if (/iPhone|iPad|iPod/.test(ua)) os = "iOS";
    else if (/CrOS/.test(ua)) os = "ChromeOS";
    else if (/Mac OS X|Macintosh/.test(ua)) os = "macOS";
    else if (/Linux/.test(ua)) os = "Linux";
    if (browser && os) return `${browser} on ${os}`;
    return browser || os;
  }

  function formatPin(pin) {
    const half = Math.ceil(pin.length / 2);
    return pin.length > 4 ? `${pin.slice(0, half)} ${pin.slice(half)}` : pin;
  }

  function mmss(ms) {
    const total = Math.max(0, Math.ceil(ms / 1000));
    const m = Math.floor(total / 60);
    const s = total % 60;
    return `${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
  }

  // ---- Views -------------------------------------------------------------

  function showView(name, focus = false) {
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

  function setMessage(node, text) {
    node.textContent = text || "";
    node.hidden = !text;
  }

  function showScanError(text) {
    setMessage(el.scanStatus, "");
    setMessage(el.scanError, text);
  }

  function showHome(focus = false) {
    showView(account() ? "scan" : "login", focus);
  }

  // ---- Sign in / sign out -----------------------------------------------

  const LOGIN_MESSAGES = {
    invalid_credentials: "Wrong username or password.",
    user_pending: "Your registration is still waiting for approval.",
    user_rejected: "Your registration was not approved. Contact your administrator if you think this is a mistake.",
    user_inactive: "Your account has been deactivated. Contact your administrator.",
    validation_failed: "Enter your username and password.",
  };

  el.loginForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    const username = el.loginUsername.value.trim().toLowerCase();
    const password = el.loginPassword.value;
    if (!username || !password) {
      setMessage(el.loginError, "Enter your username and password.");
      (username ? el.loginPassword : el.loginUsername).focus();
      return;
    }
    setMessage(el.loginError, "");
    busy = true;
    el.loginSubmit.disabled = true;
    el.loginSubmit.textContent = "Signing in…";
    const result = await postJson("/api/mobile/login", { username, password });
    busy = false;
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
      if (pendingToken) {
        const token = pendingToken;
        pendingToken = null;
        showView("scan");
        await scanToken(token);
      } else {
        showView("scan", true);
        setMessage(el.scanStatus, "You are signed in. Scan a QR code to log in to a service.");
      }
      return;
    }

    let message;
    if (result.status === 0) message = "Could not reach the server. Check your connection and try again.";
    else if (result.code === "system_closed") message = closedMessage("Sign-in", result.data);
    else if (result.code === "rate_limited" || result.status === 429) message = retryMessage(result.retryAfter);
    else message = LOGIN_MESSAGES[result.code] || `Sign-in failed${result.data && result.data.detail ? `: ${result.data.detail}` : ""}.`;
    setMessage(el.loginError, message);
    el.loginError.focus();
    if (result.code === "invalid_credentials") el.loginPassword.value = "";
  });

  function signOut(message) {
    stopCamera();
    forgetAccount();
    current = null;
    setMessage(el.scanError, "");
    setMessage(el.scanStatus, "");
    showView("login");
    setMessage(el.loginError, message || "");
    el.pendingNote.hidden = !pendingToken;
    if (message) el.loginError.focus();
    else el.loginUsername.focus();
  }

  el.signOut.addEventListener("click", () => signOut());

  // ---- QR tokens ---------------------------------------------------------

  /** The token in a scanned or pasted text: `…#qr=TOKEN`, `?qr=TOKEN` or the bare token. */
  function extractToken(text) {
    const value = String(text || "").trim();
    if (!value) return null;
    const param = /(?:^|[#?&;])qr=([^&#\s]+)/.exec(value);
    if (param) {
      try {
        return decodeURIComponent(param[1]);
      } catch (_err) {
        return param[1];
      }
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return null; // a URL without a login code
    if (/^[A-Za-z0-9_\-.~+/=]{8,512}$/.test(value)) return value;
    return null;
  }

  const SCAN_MESSAGES = {
    qr_expired: "This QR code has expired — ask the site for a new one.",
    qr_already_scanned: "This QR code has already been scanned. If that wasn't you, ask the site for a new code.",
    qr_already_used: "This QR code has already been used to log in. Ask the site for a new one.",
    qr_denied: "This login was blocked. Ask the site for a new QR code.",
    qr_not_found: "This code is not a valid login code. Check that you scanned the right QR code, or ask the site for a new one.",
    user_inactive: "Your account has been deactivated. Contact your administrator.",
    service_inactive: "This service is disabled at the moment. Contact your administrator.",
    wrong_user: "Only the person who scanned this QR code can block it.",
    validation_failed: "This is not a valid login code.",
  };

  const INVALID_KEY_MESSAGE =
    "This device was signed out because your account was signed in on another device. Sign in again to continue.";

  function errorMessageFor(result) {
    if (result.status === 0) return "Could not reach the server. Check your connection and try again.";
    if (result.code === "system_closed") return closedMessage("Login", result.data);
    if (result.code === "rate_limited" || result.status === 429) return retryMessage(result.retryAfter);
    if (result.code && SCAN_MESSAGES[result.code]) return SCAN_MESSAGES[result.code];
    const detail = result.data && typeof result.data.detail === "string" ? `: ${result.data.detail}` : "";
    return `Something went wrong${detail}. Please try again.`;
  }

  /** Takes a token from the camera, the paste box or the page address. */
  async function handleCode(text) {
    const token = extractToken(text);
    if (!token) {
      const message = "This is not a Central Auth login code. Scan the QR code shown on the login page of the service.";
      if (account()) {
        showView("scan");
        showScanError(message);
        el.scanError.focus();
      } else {
        showView("login");
        setMessage(el.loginError, message);
      }
      return;
    }
    if (!account()) {
      pendingToken = token;
      showView("login");
      el.pendingNote.hidden = false;
      el.loginUsername.focus();
      return;
    }
    await scanToken(token);
  }

  async function scanToken(token) {
    if (busy) return;
    const acc = account();
    if (!acc) {
      pendingToken = token;
      signOut();
      return;
    }
    busy = true;
    showView("scan");
    setMessage(el.scanError, "");
    setMessage(el.scanStatus, "Checking the login code…");
    el.scanButton.disabled = true;
    el.pasteSubmit.disabled = true;
    const received = Date.now();
    const result = await postJson("/api/auth/qr/scan", { qr_token: token, auth_key: acc.auth_key });
    busy = false;
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
      current = {
        token,
        pin: String(data.pin),
        deadline,
        service: data.service || {},
        requester: data.requester || {},
      };
      el.pasteCode.value = "";
      showConfirm();
      return;
    }

    if (result.code === "invalid_auth_key") {
      // The key was replaced by a sign-in on another device (or revoked):
      // sign in again here, then carry on with the same QR code.
      pendingToken = token;
      signOut(INVALID_KEY_MESSAGE);
      return;
    }
    showScanError(errorMessageFor(result));
    el.scanError.focus();
  }

  // ---- Confirm -----------------------------------------------------------

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

  function showConfirm() {
    const { service, requester } = current;
    const name = service.name || "this service";
    el.confirmService.textContent = "";
    const strong = document.createElement("strong");
    strong.textContent = name;
    el.confirmService.append("Log in to ", strong, "?");
    el.confirmServiceUrl.textContent = service.url || "";
    el.confirmServiceUrl.hidden = !service.url;

    const ua = requester.user_agent || null;
    fillDetail(el.confirmBrowser, describeUserAgent(ua), ua);
    fillDetail(el.confirmIp, requester.ip || null, null);
    fillDetail(el.confirmTime, requester.requested_at ? formatLocalTime(requester.requested_at) : null, null);
    el.confirmWarning.hidden = requester.same_network === true;
    setMessage(el.confirmError, "");
    el.confirmYes.disabled = false;
    el.confirmNo.disabled = false;
    showView("confirm", true);
  }

  el.confirmYes.addEventListener("click", () => {
    if (!current) return;
    showPin();
  });

  el.confirmNo.addEventListener("click", async () => {
    if (!current || busy) return;
    const acc = account();
    busy = true;
    el.confirmYes.disabled = true;
    el.confirmNo.disabled = true;
    el.confirmNo.textContent = "Blocking…";
    const result = acc
      ? await postJson("/api/auth/qr/deny", { qr_token: current.token, auth_key: acc.auth_key })
      : { ok: false, status: 401, code: "invalid_auth_key", data: null };
    busy = false;
    el.confirmNo.textContent = "No, this wasn't me";
    el.confirmYes.disabled = false;
    el.confirmNo.disabled = false;

    if (result.ok) {
      current = null;
      showView("denied", true);
      return;
    }
    if (result.code === "invalid_auth_key") {
      current = null;
      signOut(INVALID_KEY_MESSAGE);
      return;
    }
    let message;
    if (result.code === "qr_expired") {
      message = "This login code has already expired, so nobody can use it any more.";
    } else if (result.code === "qr_denied") {
      message = "This login was already blocked.";
    } else if (result.code === "qr_already_used") {
      message = "This code has already been used to log in. Tell your administrator at once.";
    } else {
      message = `Could not block this login. ${errorMessageFor(result)}`;
    }
    setMessage(el.confirmError, message);
  });

  // ---- PIN ---------------------------------------------------------------

  let countdownTimer = 0;

  function stopCountdown() {
    if (countdownTimer) window.clearTimeout(countdownTimer);
    countdownTimer = 0;
  }

  function showPin() {
    const { pin, service } = current;
    const name = service.name || "the service";
    el.pinInstructions.textContent = `Type this code into ${name}.`;
    el.pin.textContent = formatPin(pin);
    el.pin.dataset.pin = pin;
    el.pin.classList.remove("is-expired");
    el.pinExpired.hidden = true;
    el.pinTimer.hidden = false;
    el.pinDone.textContent = "Done";
    showView("pin", true);
    tick();
  }

  function tick() {
    stopCountdown();
    if (!current) return;
    const left = current.deadline - Date.now();
    if (!(left > 0)) {
      el.pinCountdown.textContent = "00:00";
      el.pinTimer.hidden = true;
      el.pin.classList.add("is-expired");
      el.pinExpired.hidden = false;
      el.pinDone.textContent = "Scan a new QR code";
      return;
    }
    el.pinCountdown.textContent = mmss(left);
    el.pinTimer.classList.toggle("is-low", left <= 30000);
    // Wake up just after the next whole second.
    countdownTimer = window.setTimeout(tick, (left % 1000) + 20);
  }

  el.pinDone.addEventListener("click", () => {
    current = null;
    showHome(true);
  });

  el.deniedDone.addEventListener("click", () => showHome(true));

  // ---- Paste -------------------------------------------------------------

  el.pasteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = el.pasteCode.value;
    if (!text.trim()) {
      showScanError("Paste the link from the QR code, or the code itself.");
      el.pasteCode.focus();
      return;
    }
    stopCamera();
    await handleCode(text);
  });

  // ---- Camera ------------------------------------------------------------

  let stream = null;
  let scanTimer = 0;
  let canvas = null;
  let context = null;

  function cameraMessage(err) {
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      return "Camera access was denied. Allow the camera for this site in your browser settings, or paste the code below.";
    }
    if (name === "NotFoundError" || name === "OverconstrainedError") {
      return "No camera was found on this device. Paste the code below instead.";
    }
    if (name === "NotReadableError" || name === "AbortError") {
      return "The camera is in use by another app. Close it and try again, or paste the code below.";
    }
    return "The camera could not be started. Paste the code below instead.";
  }

  async function startCamera() {
    setMessage(el.cameraError, "");
    setMessage(el.scanError, "");
    setMessage(el.scanStatus, "");
    if (typeof window.jsQR !== "function") {
      setMessage(el.cameraError, "The QR code reader did not load. Reload the page, or paste the code below.");
      return;
    }
    if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") {
      setMessage(
        el.cameraError,
        "This browser cannot use the camera here (the app must be opened over HTTPS). Paste the code below instead.",
      );
      return;
    }
    el.scanButton.disabled = true;
    try {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      } catch (err) {
        if (err && err.name === "OverconstrainedError") {
          stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
        } else {
          throw err;
        }
      }
    } catch (err) {
      el.scanButton.disabled = false;
      setMessage(el.cameraError, cameraMessage(err));
      return;
    }
    if (el.views.scan.hidden) {
      // The person moved on while the permission prompt was open.
      stopCamera();
      return;
    }
    el.camera.srcObject = stream;
    el.camera.muted = true;
    el.camera.setAttribute("playsinline", "");
    el.cameraPanel.hidden = false;
    el.scanButton.hidden = true;
    el.cameraStatus.textContent = "Point the camera at the QR code.";
    try {
      await el.camera.play();
    } catch (_err) {
      // Autoplay refusals are harmless: frames still arrive for muted video.
    }
    el.cameraStop.focus();
    scanTimer = window.setTimeout(scanFrame, 50);
  }

  function stopCamera() {
    if (scanTimer) window.clearTimeout(scanTimer);
    scanTimer = 0;
    if (stream) {
      for (const track of stream.getTracks()) track.stop();
      stream = null;
    }
    if (el.camera.srcObject) el.camera.srcObject = null;
    el.cameraPanel.hidden = true;
    el.scanButton.hidden = false;
    el.scanButton.disabled = busy;
  }

  function scanFrame() {
    scanTimer = 0;
    if (!stream) return;
    const video = el.camera;
    if (video.readyState >= 2 && video.videoWidth > 0 && video.videoHeight > 0) {
      // Decode at most 800 px wide: plenty for a QR code, quick on a phone.
      const scale = Math.min(1, 800 / video.videoWidth);
      const width = Math.round(video.videoWidth * scale);
      const height = Math.round(video.videoHeight * scale);
      if (!canvas) {
        canvas = document.createElement("canvas");
        context = canvas.getContext("2d", { willReadFrequently: true });
      }
      if (canvas.width !== width) canvas.width = width;
      if (canvas.height !== height) canvas.height = height;
      context.drawImage(video, 0, 0, width, height);
      let code = null;
      try {
        const image = context.getImageData(0, 0, width, height);
        code = window.jsQR(image.data, width, height, { inversionAttempts: "attemptBoth" });
      } catch (_err) {
        code = null;
      }
      if (code && code.data) {
        stopCamera();
        handleCode(code.data);
        return;
      }
    }
    scanTimer = window.setTimeout(scanFrame, 120);
  }

  el.scanButton.addEventListener("click", startCamera);
  el.cameraStop.addEventListener("click", () => {
    stopCamera();
    el.scanButton.focus();
  });

  // Do not keep the camera running in a background tab.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden && stream) stopCamera();
  });

  // ---- The page opened at /app#qr=TOKEN --------------------------------

  function takeTokenFromAddress() {
    const hash = window.location.hash;
    if (!/(?:^#|&)qr=/.test(hash)) return false;
    const token = extractToken(hash);
    // Take the token out of the address bar and the history at once.
    try {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    } catch (_err) {
      window.location.hash = "";
    }
    if (token) handleCode(token);
    else handleCode(hash);
    return true;
  }

  window.addEventListener("hashchange", takeTokenFromAddress);

  // ---- Offline support (app shell) ---------------------------------------

  // /app/sw.js lives one level below the page it must control (/app), so the
  // browser accepts the scope "/app" only when the server allows it with a
  // `Service-Worker-Allowed` header; without it registering would only log an
  // error, so look first.
  async function registerServiceWorker() {
    if (!navigator.onLine) return; // already installed, or nothing to install from
    try {
      const probe = await fetch("/app/sw.js", { method: "HEAD", cache: "no-store" });
      const allowed = probe.ok ? probe.headers.get("Service-Worker-Allowed") : null;
      if (!allowed || !"/app".startsWith(allowed.trim())) {
        console.info("Offline app shell off: /app/sw.js is not allowed to control /app (no Service-Worker-Allowed header).");
        return;
      }
      await navigator.serviceWorker.register("/app/sw.js", { scope: "/app" });
    } catch (err) {
      // The app works without it; it only loses the offline shell.
      console.info("Service worker not registered:", err && err.message ? err.message : err);
    }
  }

  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", registerServiceWorker);
  }

  // ---- Start ---------------------------------------------------------------

  showHome();
  takeTokenFromAddress();
})();
