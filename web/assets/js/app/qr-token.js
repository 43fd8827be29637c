// Reading a login token out of whatever the person hands the app: a scanned
// or pasted text, or the address the page was opened at (/app#qr=TOKEN).

/** The token in a scanned or pasted text: `…#qr=TOKEN`, `?qr=TOKEN` or the bare token. */
export function extractToken(text) {
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

/**
 * The code to handle when the address carries `#qr=…` (the token, or the raw
 * fragment so that a broken one gets its error message), else null.
 */
export function takeCodeFromAddress() {
  const hash = window.location.hash;
  if (!/(?:^#|&)qr=/.test(hash)) return null;
  const token = extractToken(hash);
  // Take the token out of the address bar and the history at once.
  try {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  } catch (_err) {
    window.location.hash = "";
  }
  return token || hash;
}
