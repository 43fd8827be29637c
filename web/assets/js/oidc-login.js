// The login page: counts down, says "scanned" as soon as the phone has
// scanned (it asks the public QR status route), and fetches a new code by
// reloading once the code has expired. Without JavaScript the page works
// too: the form posts the PIN, "New code" reloads.
(function () {
  "use strict";
  const form = document.getElementById("login-form");
  const countdown = document.getElementById("login-countdown");
  const status = document.getElementById("login-status");
  if (!form || !countdown || !status) return;
  const token = form.dataset.qrToken;
  let left = Number(countdown.dataset.seconds) || 0;
  let scanned = /Scanned/.test(status.textContent);

  function tick() {
    left = Math.max(0, left - 1);
    countdown.textContent = (scanned ? "The PIN is valid" : "The code is valid") + " for " + left + " seconds.";
    if (left === 0 && !scanned) window.location.reload();
  }

  async function poll() {
    try {
      const response = await fetch("/api/auth/qr/status", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ qr_token: token }),
      });
      if (!response.ok) return;
      const body = await response.json();
      if (body.status === "scanned" && !scanned) {
        scanned = true;
        status.textContent = "Scanned: type the PIN from your phone.";
        if (body.expires_at) left = Math.max(0, Math.round((Date.parse(body.expires_at) - Date.now()) / 1000));
        document.getElementById("pin").focus();
      } else if (body.status === "denied") {
        status.textContent = "The login was denied on the phone.";
      } else if (body.status === "expired" || body.status === "locked") {
        window.location.reload();
      }
    } catch (_) {
      // Offline for a moment: the next poll tries again.
    }
  }

  setInterval(tick, 1000);
  setInterval(poll, 2000);
})();
