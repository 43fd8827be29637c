// The offline app shell: registers /app/sw.js when the server allows it to
// control /app. The app works without it; it only loses the offline start.

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

/** Registers once the page has loaded, so the shell download never slows the first screen. */
export function enableOfflineShell() {
  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", registerServiceWorker);
  }
}
