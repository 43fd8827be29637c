// Every error text the app shows, chosen from the server's problem `code`
// (or the browser's camera error), so the wording lives in one place.
import { formatLocalTime } from "./format.js";

const NETWORK_MESSAGE = "Could not reach the server. Check your connection and try again.";

export const INVALID_KEY_MESSAGE =
  "This device was signed out because your account was signed in on another device. Sign in again to continue.";

export const NOT_A_LOGIN_CODE_MESSAGE =
  "This is not a Central Auth login code. Scan the QR code shown on the login page of the service.";

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

const LOGIN_MESSAGES = {
  invalid_credentials: "Wrong username or password.",
  user_pending: "Your registration is still waiting for approval.",
  user_rejected: "Your registration was not approved. Contact your administrator if you think this is a mistake.",
  user_inactive: "Your account has been deactivated. Contact your administrator.",
  validation_failed: "Enter your username and password.",
};

/** For a failed POST /api/mobile/login. */
export function signInErrorMessage(result) {
  if (result.status === 0) return NETWORK_MESSAGE;
  if (result.code === "system_closed") return closedMessage("Sign-in", result.data);
  if (result.code === "rate_limited" || result.status === 429) return retryMessage(result.retryAfter);
  return LOGIN_MESSAGES[result.code] || `Sign-in failed${result.data && result.data.detail ? `: ${result.data.detail}` : ""}.`;
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

/** For a failed scan (and the general part of a failed deny). */
export function scanErrorMessage(result) {
  if (result.status === 0) return NETWORK_MESSAGE;
  if (result.code === "system_closed") return closedMessage("Login", result.data);
  if (result.code === "rate_limited" || result.status === 429) return retryMessage(result.retryAfter);
  if (result.code && SCAN_MESSAGES[result.code]) return SCAN_MESSAGES[result.code];
  const detail = result.data && typeof result.data.detail === "string" ? `: ${result.data.detail}` : "";
  return `Something went wrong${detail}. Please try again.`;
}

/** For a failed deny: the codes that mean "nobody can use it anyway" get their own words. */
export function denyErrorMessage(result) {
  if (result.code === "qr_expired") return "This login code has already expired, so nobody can use it any more.";
  if (result.code === "qr_denied") return "This login was already blocked.";
  if (result.code === "qr_already_used") {
    return "This code has already been used to log in. Tell your administrator at once.";
  }
  return `Could not block this login. ${scanErrorMessage(result)}`;
}

export const DECODER_MISSING_MESSAGE = "The QR code reader did not load. Reload the page, or paste the code below.";

export const NO_CAMERA_API_MESSAGE =
  "This browser cannot use the camera here (the app must be opened over HTTPS). Paste the code below instead.";

/** For a getUserMedia failure; every text points to the paste box, which always works. */
export function cameraErrorMessage(err) {
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
