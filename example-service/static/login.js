// Keeps the login page's status line current. It asks this site's own
// /login/status, never Central Auth: the QR token stays on the server.
"use strict";

(() => {
  const status = document.getElementById("status");
  if (!status) return;
  const source = status.dataset.poll;
  const pin = document.getElementById("pin");
  const submit = document.getElementById("pin-submit");
  const EVERY_MS = 1500;

  const show = (reply) => {
    status.textContent = reply.message;
    status.dataset.status = reply.status;
    if (reply.offer_new_code) {
      status.append(" — ");
      const link = document.createElement("a");
      link.id = "new-code";
      link.href = "/login";
      link.textContent = "get a new code";
      status.append(link);
    }
    if (reply.status === "scanned" && pin && document.activeElement !== pin) {
      pin.focus();
    }
    if (reply.ended && reply.status !== "verified") {
      if (pin) pin.disabled = true;
      if (submit) submit.disabled = true;
    }
  };

  const poll = async () => {
    let reply;
    try {
      const response = await fetch(source, {
        headers: { Accept: "application/json" },
        cache: "no-store",
        credentials: "same-origin",
      });
      reply = await response.json();
    } catch (_) {
      reply = null; // offline for a moment: try again
    }
    if (reply) show(reply);
    if (!reply || !reply.ended) setTimeout(poll, EVERY_MS);
  };

  setTimeout(poll, EVERY_MS);
})();
