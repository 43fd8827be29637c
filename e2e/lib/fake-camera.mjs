// The phone's fake camera: ServiceB's QR picture (a PNG, decoded here in plain
// JS so the test needs no image package) becomes a one-frame Y4M video that
// Chromium plays as its camera.

import assert from "node:assert/strict";
import fs from "node:fs";
import zlib from "node:zlib";

/**
 * Decodes a non-interlaced 8-bit PNG (grayscale, as the Rust `image` crate
 * writes QR codes; RGB and alpha variants too) into one gray byte per pixel.
 */
export function decodePng(bytes) {
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  assert.ok(bytes.subarray(0, 8).equals(signature), "the QR image is not a PNG (bad signature)");
  let header = null;
  const data = [];
  for (let at = 8; at + 12 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString("latin1", at + 4, at + 8);
    const body = bytes.subarray(at + 8, at + 8 + length);
    at += 12 + length;
    if (type === "IHDR") {
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        bitDepth: body[8],
        colorType: body[9],
        interlace: body[12],
      };
    } else if (type === "IDAT") {
      data.push(body);
    } else if (type === "IEND") {
      break;
    }
  }
  assert.ok(header, "the PNG has no IHDR chunk");
  const { width, height, bitDepth, colorType, interlace } = header;
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType];
  assert.ok(bitDepth === 8 && channels && interlace === 0,
    `unsupported PNG: bit depth ${bitDepth}, colour type ${colorType}, interlace ${interlace}`);
  const stride = width * channels;
  const raw = zlib.inflateSync(Buffer.concat(data));
  assert.equal(raw.length, height * (stride + 1), "PNG image data has the wrong length");

  const pixels = Buffer.alloc(height * stride);
  const zero = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : zero;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[i - channels] : 0; // left
      const b = up[i]; // above
      const c = i >= channels ? up[i - channels] : 0; // above left
      let predictor;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = a; break;
        case 2: predictor = b; break;
        case 3: predictor = (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: assert.fail(`PNG row ${y} has an unknown filter type ${filter}`);
      }
      out[i] = (line[i] + predictor) & 0xff;
    }
  }

  const gray = Buffer.alloc(width * height);
  for (let p = 0; p < width * height; p++) {
    const px = pixels.subarray(p * channels, (p + 1) * channels);
    let luma = colorType === 0 || colorType === 4
      ? px[0]
      : Math.round(0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2]);
    if (colorType === 4 || colorType === 6) {
      const alpha = px[channels - 1] / 255; // over a white background
      luma = Math.round(luma * alpha + 255 * (1 - alpha));
    }
    gray[p] = luma;
  }
  return { width, height, gray };
}

/**
 * One-frame Y4M video (640x480, I420 with JPEG-range chroma) showing the
 * picture centred on white, scaled with nearest-neighbour. Chromium loops it.
 */
function grayToY4m({ width, height, gray }) {
  const W = 640;
  const H = 480;
  const scale = Math.min(440 / height, 600 / width);
  const w = Math.floor(width * scale);
  const h = Math.floor(height * scale);
  const left = Math.floor((W - w) / 2);
  const top = Math.floor((H - h) / 2);
  const luma = Buffer.alloc(W * H, 255);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(height - 1, Math.floor(y / scale));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(width - 1, Math.floor(x / scale));
      luma[(top + y) * W + left + x] = gray[sy * width + sx];
    }
  }
  const chroma = Buffer.alloc((W / 2) * (H / 2) * 2, 128); // Cb then Cr: no colour
  return Buffer.concat([
    Buffer.from(`YUV4MPEG2 W${W} H${H} F30:1 Ip A1:1 C420jpeg\n`, "latin1"),
    Buffer.from("FRAME\n", "latin1"),
    luma,
    chroma,
  ]);
}

/**
 * Writes the decoded picture as the camera video at `file`, after checking the
 * video's shape. `file` must be absolute: Chromium resolves relative paths from
 * its own cwd.
 */
export function writeFakeCameraVideo(image, file) {
  const video = grayToY4m(image);
  const header = "YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\nFRAME\n";
  assert.equal(video.subarray(0, header.length).toString("latin1"), header, "a Y4M header and one frame");
  assert.equal(video.length, header.length + 640 * 480 * 1.5, "one 640x480 I420 frame");
  fs.writeFileSync(file, video);
  return file;
}

/** Chromium flags that make the video at `file` the camera, allowed without asking. */
export function fakeCameraFlags(file) {
  return [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-video-capture=${file}`,
  ];
}
