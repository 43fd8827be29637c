// The PIN's countdown: ticks once a second until the deadline, then marks the
// PIN expired. Only one runs at a time; leaving the PIN screen stops it.
import { el } from "./dom.js";
import { mmss } from "./format.js";

let countdownTimer = 0;

export function stopCountdown() {
  if (countdownTimer) window.clearTimeout(countdownTimer);
  countdownTimer = 0;
}

/** `deadline` is a Date.now() timestamp. */
export function startCountdown(deadline) {
  stopCountdown();
  const left = deadline - Date.now();
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
  countdownTimer = window.setTimeout(() => startCountdown(deadline), (left % 1000) + 20);
}
