// The camera scan: the video stream, decoding frames with jsQR (a classic
// script that sets window.jsQR) and handing the first code read to a callback.
import { el, setMessage } from "./dom.js";
import { cameraErrorMessage, DECODER_MISSING_MESSAGE, NO_CAMERA_API_MESSAGE } from "./messages.js";
import { state } from "./state.js";

let stream = null;
let scanTimer = 0;
let canvas = null;
let context = null;
let onCode = null;

export const cameraRunning = () => stream !== null;

/** Starts the camera; `handleCode(text)` gets the first QR code read. */
export async function startCamera(handleCode) {
  onCode = handleCode;
  setMessage(el.cameraError, "");
  setMessage(el.scanError, "");
  setMessage(el.scanStatus, "");
  if (typeof window.jsQR !== "function") {
    setMessage(el.cameraError, DECODER_MISSING_MESSAGE);
    return;
  }
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") {
    setMessage(el.cameraError, NO_CAMERA_API_MESSAGE);
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
    setMessage(el.cameraError, cameraErrorMessage(err));
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

export function stopCamera() {
  if (scanTimer) window.clearTimeout(scanTimer);
  scanTimer = 0;
  if (stream) {
    for (const track of stream.getTracks()) track.stop();
    stream = null;
  }
  if (el.camera.srcObject) el.camera.srcObject = null;
  el.cameraPanel.hidden = true;
  el.scanButton.hidden = false;
  el.scanButton.disabled = state.busy;
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
      onCode(code.data);
      return;
    }
  }
  scanTimer = window.setTimeout(scanFrame, 120);
}
