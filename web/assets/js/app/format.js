// How values from the server are shown: local times, a short browser name,
// the service's address, the network note, the PIN in two halves and the
// countdown's mm:ss. Pure functions.

/** The viewer's own time zone and language; null when there is no usable time. */
export function formatLocalTime(iso) {
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

/** "Chrome on Windows" from a User-Agent header, so a person can recognise their own computer. */
export function describeUserAgent(ua) {
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

/** "123 456": two halves are easier to read off and type than six digits. */
export function formatPin(pin) {
  const half = Math.ceil(pin.length / 2);
  return pin.length > 4 ? `${pin.slice(0, half)} ${pin.slice(half)}` : pin;
}

export function mmss(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

/**
 * The part of the address bar a person can compare (host and port), e.g.
 * serviceb.example for https://serviceb.example/login; null without a URL.
 */
export function serviceHost(url) {
  if (!url) return null;
  try {
    return new URL(url).host || String(url);
  } catch (_err) {
    return String(url);
  }
}

/**
 * What the app says about where the request comes from. `same_network` is the
 * server's comparison of the phone's and the requesting browser's addresses
 * (the same IPv4 address, or the same IPv6 /64). A relayed QR code (someone
 * else's login shown to you) usually comes from another network.
 */
export function networkNote(requester) {
  if (requester.same_network === true) {
    return { warn: false, text: "This request comes from the same network as your phone." };
  }
  if (requester.ip) {
    return {
      warn: true,
      text: `This request comes from another network than your phone (${requester.ip}). ` +
        "If you are not sitting at that computer yourself, choose “No, this wasn't me”.",
    };
  }
  return {
    warn: true,
    text: "The service did not say which network this request comes from. " +
      "Continue only if you started it yourself, on a computer next to you.",
  };
}
