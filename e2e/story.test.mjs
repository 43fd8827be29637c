// End-to-end story of Central Auth, in real browsers against the real binaries:
//
//   a person registers in the portal → the admin signs in to the console and
//   approves → the admin registers ServiceB on the Services page → ServiceB
//   (the example service) starts with that service_id/api_key and shows a QR
//   code → the QR picture becomes the video of a fake camera → a second
//   Chromium (the phone) signs in to /app, scans the code with the camera,
//   confirms "Log in to ServiceB?" and shows the PIN → the PIN typed into
//   ServiceB logs the person in → logout → the admin's login history shows the
//   session (success, with a logout time) and validate-session says logged_out.
//
// Run from the repository root: `node --test e2e/` (scripts/e2e installs
// Chromium, runs `npm ci` and builds the binaries first). Screenshots of every
// page go to target/e2e-screenshots/.
//
// Environment: CENTRAL_AUTH_BIN, EXAMPLE_SERVICE_BIN (default
// target/debug/central-auth and target/debug/example-service), CHROMIUM_BIN
// (default /usr/bin/chromium). Nothing is skipped: a missing binary or browser
// fails the test.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SHOTS = path.join(ROOT, "target", "e2e-screenshots");
const CENTRAL_AUTH_BIN = path.resolve(ROOT, process.env.CENTRAL_AUTH_BIN || "target/debug/central-auth");
const EXAMPLE_SERVICE_BIN = path.resolve(ROOT, process.env.EXAMPLE_SERVICE_BIN || "target/debug/example-service");
const CHROMIUM_BIN = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 740 };
/** Longest wait for one element or page, in ms. */
const WAIT_MS = 15_000;

const ADMIN_PASSWORD = "e2e admin password 42";
const PERSON = {
  email: "ada.lovelace@example.com",
  username: "ada",
  password: "analytical engine 1843",
  full_name: "Ada Lovelace",
  phone: "+15551234567",
};

// ---------------------------------------------------------------------------
// QR picture → fake camera video

/**
 * Decodes a non-interlaced 8-bit PNG (grayscale, as the Rust `image` crate
 * writes QR codes; RGB and alpha variants too) into one gray byte per pixel.
 */
function decodePng(bytes) {
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

// ---------------------------------------------------------------------------
// Processes

function requireExecutable(file, what, hint) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    assert.fail(`${what} not found or not executable at ${file}. ${hint}`);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const children = [];

/** Starts a binary; its output is kept (the last 64 KiB) for failure reports. */
function startProcess(name, file, args, env, cwd) {
  const child = spawn(file, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  const record = { name, child, output: "", exited: null };
  const keep = (chunk) => {
    record.output = (record.output + chunk.toString()).slice(-65_536);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  record.exit = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      record.exited = { code, signal };
      resolve();
    });
    child.on("error", (err) => {
      record.exited = { code: null, signal: null, error: err.message };
      resolve();
    });
  });
  children.push(record);
  return record;
}

async function stopProcess(record) {
  if (record.exited) return;
  record.child.kill("SIGTERM");
  const timer = setTimeout(() => record.child.kill("SIGKILL"), 5_000);
  await record.exit;
  clearTimeout(timer);
}

// A crash of the test process itself must not leave servers behind.
process.on("exit", () => {
  for (const record of children) if (!record.exited) record.child.kill("SIGKILL");
});

/** Polls `url` until `ready(response)` holds; fails early if the process dies. */
async function waitForHttp(url, record, ready = (r) => r.ok, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (record.exited) {
      assert.fail(`${record.name} exited (${JSON.stringify(record.exited)}) before ${url} answered:\n${record.output}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (ready(response)) return;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`${url} was not ready within ${timeoutMs} ms (${last}); ${record.name} said:\n${record.output}`);
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = JSON.parse(text);
  } catch {
    data = text;
  }
  return { status: response.status, data };
}

// ---------------------------------------------------------------------------
// Browsers and screenshots

async function launchChromium(extraArgs = []) {
  requireExecutable(CHROMIUM_BIN, "Chromium", "Install it (apt-get install chromium) or set CHROMIUM_BIN; scripts/e2e does this.");
  // playwright gives every launch a fresh temporary profile (user data dir).
  return chromium.launch({
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 30_000,
  });
}

let shotNumber = 0;
const shots = [];

/** A screenshot of the whole page, numbered in story order. */
async function shot(page, name) {
  shotNumber += 1;
  const file = `${String(shotNumber).padStart(2, "0")}-${name}.png`;
  await page.screenshot({ path: path.join(SHOTS, file), fullPage: true });
  shots.push(file);
}

/** The same page at phone size (375x740), then back to its own size. */
async function phoneShot(page, name) {
  const size = page.viewportSize();
  await page.setViewportSize(PHONE);
  try {
    await shot(page, `${name}-phone`);
  } finally {
    await page.setViewportSize(size);
  }
}

const pageErrors = [];
const consoleMessages = [];

async function newPage(browser, label, options) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  const page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(`${label}: ${err.message}`));
  page.on("response", (response) => {
    if (response.status() >= 400) consoleMessages.push(`${label}: HTTP ${response.status()} for ${response.url()}`);
  });
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      const where = message.location()?.url;
      consoleMessages.push(`${label} console.${message.type()}: ${message.text()}${where ? ` (${where})` : ""}`);
    }
  });
  return page;
}

/** The element's text, whitespace collapsed (waits for the element). */
const text = async (page, selector) => (await page.textContent(selector))?.replace(/\s+/g, " ").trim();
/** The element's text right now, or null when it does not exist (for messages). */
const textNow = (page, selector) =>
  page.evaluate((s) => document.querySelector(s)?.textContent.replace(/\s+/g, " ").trim() ?? null, selector);

// ---------------------------------------------------------------------------
// The story

test("a person registers, is approved, and logs in to ServiceB by scanning its QR code with the app", { timeout: 150_000 }, async (t) => {
  const started = Date.now();
  requireExecutable(CENTRAL_AUTH_BIN, "central-auth binary",
    "Build it with `cargo build -p central-auth -p example-service --bins` or set CENTRAL_AUTH_BIN.");
  requireExecutable(EXAMPLE_SERVICE_BIN, "example-service binary",
    "Build it with `cargo build -p central-auth -p example-service --bins` or set EXAMPLE_SERVICE_BIN.");
  requireExecutable(CHROMIUM_BIN, "Chromium", "Install it (apt-get install chromium) or set CHROMIUM_BIN.");

  fs.rmSync(SHOTS, { recursive: true, force: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "central-auth-e2e-"));
  const baseEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? work,
    RUST_LOG: "warn",
    NO_COLOR: "1",
  };

  const caPort = await freePort();
  const sbPort = await freePort();
  const CA = `http://127.0.0.1:${caPort}`;
  const SB = `http://127.0.0.1:${sbPort}`;

  const browsers = [];
  const openPages = [];
  let centralAuth = null;
  let serviceB = null;

  // Runs one chapter as a subtest; the story stops at the first failure,
  // with a screenshot of every open page.
  const step = async (name, fn) => {
    let failure = null;
    await t.test(name, async () => {
      try {
        await fn();
      } catch (err) {
        failure = err;
        for (const [label, page] of openPages) {
          if (!page.isClosed()) {
            await page.screenshot({ path: path.join(SHOTS, `FAILED-${label}.png`), fullPage: true }).catch(() => {});
          }
        }
        throw err;
      }
    });
    if (failure) throw new Error(`the story stopped at "${name}": ${failure.message}`);
  };

  // Shared between the chapters.
  let desktop; // the person's computer: portal and ServiceB
  let admin; // the admin's computer: console
  let phone; // the person's phone: /app with the fake camera
  let service; // { id, key }
  let qrPng;
  let y4mFile;
  let pin;
  let sessionToken;

  try {
    await step("Central Auth starts on a fresh SQLite database", async () => {
      centralAuth = startProcess("central-auth", CENTRAL_AUTH_BIN, ["serve"], {
        ...baseEnv,
        BIND_ADDR: `127.0.0.1:${caPort}`,
        PUBLIC_URL: CA,
        DATABASE_URL: `sqlite://${path.join(work, "central-auth.db")}`,
        ADMIN_PASSWORD,
        OPERATING_HOURS_ENABLED: "false",
      }, work);
      await waitForHttp(`${CA}/readyz`, centralAuth);
    });

    const browser = await launchChromium();
    browsers.push(browser);

    await step("the person registers in the portal", async () => {
      desktop = await newPage(browser, "desktop", { viewport: DESKTOP });
      openPages.push(["desktop", desktop]);
      await desktop.goto(`${CA}/register`);
      await desktop.waitForSelector("form#register-form");
      await shot(desktop, "register");
      await phoneShot(desktop, "register");
      await desktop.fill("#email", PERSON.email);
      await desktop.fill("#username", PERSON.username);
      await desktop.fill("#password", PERSON.password);
      await desktop.fill("#full_name", PERSON.full_name);
      await desktop.fill("#phone", PERSON.phone);
      await shot(desktop, "register-filled");
      await desktop.click("button#submit");
      await desktop.waitForSelector("#success, #form-error:not([hidden])");
      assert.equal(await text(desktop, "#success"),
        "Registration submitted! An admin will review your application.",
        "the portal confirms the registration");
      await shot(desktop, "register-submitted");
    });

    await step("the admin signs in to the console and approves the registration", async () => {
      admin = await newPage(browser, "admin", { viewport: DESKTOP });
      openPages.push(["admin", admin]);
      await admin.goto(`${CA}/admin`);
      await admin.waitForURL(`${CA}/admin/login`);
      await shot(admin, "admin-login");
      await admin.fill("#username", "admin");
      await admin.fill("#password", ADMIN_PASSWORD);
      await admin.click("button#admin-login-submit");
      await admin.waitForURL(`${CA}/admin`);
      await admin.waitForSelector("button#sign-out");
      await shot(admin, "admin-dashboard");
      await phoneShot(admin, "admin-dashboard");

      await admin.goto(`${CA}/admin/pending`);
      const approve = `button#approve-${PERSON.username}`;
      await admin.waitForSelector(approve);
      assert.match(await text(admin, `#pending-${PERSON.username}`), /Ada Lovelace/, "the pending card names the person");
      await shot(admin, "admin-pending");
      await admin.click(approve);
      await admin.waitForSelector("#notice");
      assert.equal(await text(admin, "#notice"), `Approved ${PERSON.username}.`, "the console confirms the approval");
      assert.equal(await admin.locator(approve).count(), 0, "the approved registration left the pending list");
      await shot(admin, "admin-pending-approved");
    });

    await step("the admin registers ServiceB on the Services page", async () => {
      await admin.goto(`${CA}/admin/services`);
      await admin.fill("#s-name", "ServiceB");
      await admin.fill("#s-url", SB);
      await admin.fill("#s-description", "The example relying service (end-to-end test)");
      await admin.click("button#service-submit");
      await admin.waitForSelector("#new-api-key, #service-error");
      service = {
        id: await text(admin, "#new-service-id"),
        key: await text(admin, "#new-api-key"),
      };
      assert.ok(service.id, "the console shows the new service_id");
      assert.ok(service.key && service.key.length >= 20, "the console shows the new api_key once");
      await shot(admin, "admin-service-registered");
    });

    await step("ServiceB starts with its service_id and api_key", async () => {
      serviceB = startProcess("example-service", EXAMPLE_SERVICE_BIN, [
        "--central-auth-url", CA,
        "--service-id", service.id,
        "--bind", `127.0.0.1:${sbPort}`,
      ], { ...baseEnv, SERVICE_API_KEY: service.key }, work);
      await waitForHttp(`${SB}/`, serviceB);
    });

    await step("ServiceB's login page shows a QR code", async () => {
      await desktop.goto(`${SB}/`);
      await desktop.waitForSelector("#login-link");
      assert.equal(await text(desktop, "#logged-out"), "You are logged out.", "ServiceB starts logged out");
      await shot(desktop, "serviceb-home");
      await desktop.click("#login-link");
      await desktop.waitForURL(`${SB}/login`);
      const qr = await desktop.waitForSelector("img#qr");
      const src = await qr.getAttribute("src");
      const prefix = "data:image/png;base64,";
      assert.ok(src?.startsWith(prefix), `img#qr is an inline PNG (src starts with ${src?.slice(0, 30)})`);
      assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), "the QR picture renders");
      qrPng = Buffer.from(src.slice(prefix.length), "base64");
      await desktop.waitForSelector("form#pin-form input#pin");
      await shot(desktop, "serviceb-login");
      await phoneShot(desktop, "serviceb-login");
    });

    await step("the QR picture becomes the phone's fake camera video (Y4M)", async () => {
      const image = decodePng(qrPng);
      assert.equal(image.width, image.height, "the QR PNG is square");
      assert.ok(image.width >= 100 && image.width <= 600, `the QR PNG is ${image.width} px wide`);
      const corners = [0, image.width - 1, (image.height - 1) * image.width, image.width * image.height - 1];
      assert.ok(corners.every((i) => image.gray[i] === 255), "the quiet zone (white border) is kept");
      assert.ok(image.gray.some((v) => v === 0), "the QR PNG has dark modules");
      const video = grayToY4m(image);
      const header = "YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\nFRAME\n";
      assert.equal(video.subarray(0, header.length).toString("latin1"), header, "a Y4M header and one frame");
      assert.equal(video.length, header.length + 640 * 480 * 1.5, "one 640x480 I420 frame");
      y4mFile = path.join(work, "qr.y4m"); // absolute: Chromium resolves relative paths from its own cwd
      fs.writeFileSync(y4mFile, video);
    });

    await step("the phone signs in to the authenticator app", async () => {
      const phoneBrowser = await launchChromium([
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        `--use-file-for-fake-video-capture=${y4mFile}`,
      ]);
      browsers.push(phoneBrowser);
      phone = await newPage(phoneBrowser, "phone", { viewport: PHONE, isMobile: true, hasTouch: true });
      openPages.push(["phone", phone]);
      await phone.goto(`${CA}/app`);
      await phone.waitForSelector("form#login-form", { state: "visible" });
      await shot(phone, "app-sign-in-phone");
      await phone.fill("#login-username", PERSON.username);
      await phone.fill("#login-password", PERSON.password);
      await phone.click("button#login-submit");
      await phone.waitForSelector("button#scan-button:visible, #login-error:not([hidden])");
      assert.ok(await phone.isVisible("button#scan-button"),
        `the app signed in (login error: ${await textNow(phone, "#login-error")})`);
      assert.match(await text(phone, "#signed-in-as"), /Ada Lovelace/, "the app says who is signed in");
      await shot(phone, "app-signed-in-phone");
    });

    await step("the phone's camera reads the QR code and the app asks to confirm", async () => {
      await phone.click("button#scan-button");
      await phone.waitForSelector("#confirm:visible, #camera-error:not([hidden]), #scan-error:not([hidden])");
      assert.ok(await phone.isVisible("#confirm"),
        `the camera scan reached the confirmation (camera error: ${await textNow(phone, "#camera-error")}; ` +
        `scan error: ${await textNow(phone, "#scan-error")})`);
      assert.equal(await text(phone, "#confirm-service"), "Log in to ServiceB?", "the app names the service asking");
      assert.ok(await phone.isHidden("#pin-view"), "no PIN before the person confirms");
      await shot(phone, "app-confirm-phone");
      // ServiceB's page polls the status and notices the scan.
      await desktop.waitForSelector('#status[data-status="scanned"]');
      await shot(desktop, "serviceb-login-scanned");
    });

    await step("the person confirms and the app shows the PIN", async () => {
      await phone.click("button#confirm-yes");
      await phone.waitForSelector("#pin:visible");
      pin = await phone.getAttribute("#pin", "data-pin");
      assert.match(pin ?? "", /^\d{6}$/, "#pin's data-pin holds six digits");
      assert.equal(await text(phone, "#pin"), `${pin.slice(0, 3)} ${pin.slice(3)}`, "the PIN is shown as 123 456");
      assert.match(await text(phone, "#pin-countdown"), /^0[45]:\d\d$/, "the PIN countdown runs (5 minutes)");
      await shot(phone, "app-pin-phone");
    });

    await step("the PIN typed into ServiceB logs the person in", async () => {
      await desktop.fill("input#pin", pin);
      await desktop.click("button#pin-submit");
      await desktop.waitForSelector("#welcome, #error");
      assert.ok(await desktop.isVisible("#welcome"), `ServiceB accepted the PIN (error: ${await textNow(desktop, "#error")})`);
      assert.equal(desktop.url(), `${SB}/`, "ServiceB went back to its home page");
      assert.equal(await text(desktop, "#welcome"), `Welcome, ${PERSON.full_name}`, "ServiceB greets the person by full name");
      await shot(desktop, "serviceb-welcome");
      const cookie = (await desktop.context().cookies(SB)).find((c) => c.name === "sb_session");
      sessionToken = cookie?.value;
      assert.ok(sessionToken, "ServiceB keeps the session token in its sb_session cookie");
      const check = await postJson(`${CA}/api/auth/validate-session`, { session_token: sessionToken });
      assert.equal(check.data?.valid, true, `the session is valid at Central Auth: ${JSON.stringify(check.data)}`);
    });

    await step("logging out of ServiceB ends the session", async () => {
      await desktop.click("button#logout");
      await desktop.waitForSelector("#logged-out");
      assert.equal(await desktop.locator("#welcome").count(), 0, "no welcome after logout");
      await shot(desktop, "serviceb-logged-out");
      const check = await postJson(`${CA}/api/auth/validate-session`, { session_token: sessionToken });
      assert.equal(check.status, 200);
      assert.deepEqual(
        { valid: check.data?.valid, reason: check.data?.reason },
        { valid: false, reason: "logged_out" },
        "validate-session reports the token as logged out",
      );
    });

    await step("the admin's login history lists the session with a logout time", async () => {
      await admin.goto(`${CA}/admin/history`);
      await admin.waitForSelector("table.history");
      const headers = (await admin.locator("table.history thead th").allTextContents()).map((h) => h.trim());
      const column = (name) => {
        const i = headers.indexOf(name);
        assert.ok(i >= 0, `the history table has a "${name}" column (has: ${headers.join(", ")})`);
        return i;
      };
      const rows = await admin.locator("table.history tbody tr").evaluateAll((trs) =>
        trs.map((tr) => Array.from(tr.cells, (td) => td.textContent.replace(/\s+/g, " ").trim())));
      const mine = rows.filter((r) => r[column("User")] === PERSON.username && r[column("Service")] === "ServiceB");
      assert.equal(mine.length, 1, `one attempt of ${PERSON.username} at ServiceB is listed: ${JSON.stringify(rows)}`);
      const [row] = mine;
      assert.equal(row[column("Outcome")], "success", "the attempt succeeded");
      assert.match(row[column("Logout")], /\d{4}-\d\d-\d\d.*\d\d:\d\d/, "the row has a logout time");
      assert.match(row[column("Logout")], /logged_out/, "the session ended by logging out");
      await shot(admin, "admin-history");
    });

    await step("the admin signs out", async () => {
      await admin.click("button#sign-out");
      await admin.waitForURL(`${CA}/admin/login`);
      await admin.waitForSelector("#admin-login-submit");
      await shot(admin, "admin-signed-out");
    });

    assert.deepEqual(pageErrors, [], "no page threw an uncaught error");
  } finally {
    for (const b of browsers) await b.close().catch(() => {});
    for (const record of [serviceB, centralAuth]) if (record) await stopProcess(record);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    t.diagnostic(`story took ${seconds} s; ${shots.length} screenshots in ${path.relative(ROOT, SHOTS)}/: ${shots.join(" ")}`);
    for (const message of consoleMessages) t.diagnostic(message);
    if (pageErrors.length) for (const e of pageErrors) t.diagnostic(`page error: ${e}`);
    for (const record of [centralAuth, serviceB]) {
      if (!record?.output.trim()) continue;
      t.diagnostic(`${record.name} output (last lines):`);
      for (const line of record.output.trim().split("\n").slice(-20)) t.diagnostic(`  ${line}`);
    }
    fs.rmSync(work, { recursive: true, force: true });
  }
});
