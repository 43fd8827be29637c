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
// Run from the repository root: `node --test e2e/*.test.mjs` (scripts/e2e installs
// Chromium, runs `npm ci` and builds the binaries first). Screenshots of every
// page go to target/e2e-screenshots/. This file is the story; the machinery is
// in e2e/lib/: servers.mjs (the two binaries), browser.mjs (Chromium, pages,
// screenshots) and fake-camera.mjs (QR picture → camera video).
//
// Environment: CENTRAL_AUTH_BIN, EXAMPLE_SERVICE_BIN (default
// target/debug/central-auth and target/debug/example-service), CHROMIUM_BIN
// (default /usr/bin/chromium). Nothing is skipped: a missing binary or browser
// fails the test.

import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";

import { Browsers, DESKTOP, PHONE, requireChromium, text, textNow } from "./lib/browser.mjs";
import { decodePng, fakeCameraFlags, writeFakeCameraVideo } from "./lib/fake-camera.mjs";
import { postJson, requireServerBinaries, Servers } from "./lib/servers.mjs";

const ADMIN_PASSWORD = "e2e console passphrase 42";
const PERSON = {
  email: "ada.lovelace@example.com",
  username: "ada",
  password: "analytical engine 1843",
  full_name: "Ada Lovelace",
  phone: "+15551234567",
};

test("a person registers, is approved, and logs in to ServiceB by scanning its QR code with the app", { timeout: 150_000 }, async (t) => {
  const started = Date.now();
  requireServerBinaries();
  requireChromium();
  const browsers = new Browsers(); // empties target/e2e-screenshots/
  const servers = await Servers.prepare(); // a scratch directory and two free ports
  const CA = servers.centralAuthUrl;
  const SB = servers.exampleServiceUrl;
  // Each chapter is a subtest; the story stops at the first failure, with a
  // screenshot of every open page.
  const step = browsers.steps(t);

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
      await servers.startCentralAuth({ adminPassword: ADMIN_PASSWORD });
    });

    const browser = await browsers.launch();

    await step("the person registers in the portal", async () => {
      desktop = await browsers.newPage(browser, "desktop", { viewport: DESKTOP });
      await desktop.goto(`${CA}/register`);
      await desktop.waitForSelector("form#register-form");
      await browsers.shot(desktop, "register");
      await browsers.phoneShot(desktop, "register");
      await desktop.fill("#email", PERSON.email);
      await desktop.fill("#username", PERSON.username);
      await desktop.fill("#password", PERSON.password);
      await desktop.fill("#full_name", PERSON.full_name);
      await desktop.fill("#phone", PERSON.phone);
      await browsers.shot(desktop, "register-filled");
      await desktop.click("button#submit");
      await desktop.waitForSelector("#success, #form-error:not([hidden])");
      assert.equal(await text(desktop, "#success"),
        "Registration submitted! An admin will review your application.",
        "the portal confirms the registration");
      await browsers.shot(desktop, "register-submitted");
    });

    await step("the admin signs in to the console and approves the registration", async () => {
      admin = await browsers.newPage(browser, "admin", { viewport: DESKTOP });
      await admin.goto(`${CA}/admin`);
      await admin.waitForURL(`${CA}/admin/login`);
      await browsers.shot(admin, "admin-login");
      await admin.fill("#username", "admin");
      await admin.fill("#password", ADMIN_PASSWORD);
      await admin.click("button#admin-login-submit");
      await admin.waitForURL(`${CA}/admin`);
      await admin.waitForSelector("button#sign-out");
      await browsers.shot(admin, "admin-dashboard");
      await browsers.phoneShot(admin, "admin-dashboard");

      await admin.goto(`${CA}/admin/pending`);
      const approve = `button#approve-${PERSON.username}`;
      await admin.waitForSelector(approve);
      assert.match(await text(admin, `#pending-${PERSON.username}`), /Ada Lovelace/, "the pending card names the person");
      await browsers.shot(admin, "admin-pending");
      await admin.click(approve);
      await admin.waitForSelector("#notice");
      assert.equal(await text(admin, "#notice"), `Approved ${PERSON.username}.`, "the console confirms the approval");
      assert.equal(await admin.locator(approve).count(), 0, "the approved registration left the pending list");
      await browsers.shot(admin, "admin-pending-approved");
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
      await browsers.shot(admin, "admin-service-registered");
    });

    await step("ServiceB starts with its service_id and api_key", async () => {
      await servers.startExampleService({ serviceId: service.id, apiKey: service.key });
    });

    await step("ServiceB's login page shows a QR code", async () => {
      await desktop.goto(`${SB}/`);
      await desktop.waitForSelector("#login-link");
      assert.equal(await text(desktop, "#logged-out"), "You are logged out.", "ServiceB starts logged out");
      await browsers.shot(desktop, "serviceb-home");
      await desktop.click("#login-link");
      await desktop.waitForURL(`${SB}/login`);
      const qr = await desktop.waitForSelector("img#qr");
      const src = await qr.getAttribute("src");
      const prefix = "data:image/png;base64,";
      assert.ok(src?.startsWith(prefix), `img#qr is an inline PNG (src starts with ${src?.slice(0, 30)})`);
      assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), "the QR picture renders");
      qrPng = Buffer.from(src.slice(prefix.length), "base64");
      await desktop.waitForSelector("form#pin-form input#pin");
      await browsers.shot(desktop, "serviceb-login");
      await browsers.phoneShot(desktop, "serviceb-login");
    });

    await step("the QR picture becomes the phone's fake camera video (Y4M)", async () => {
      const image = decodePng(qrPng);
      assert.equal(image.width, image.height, "the QR PNG is square");
      assert.ok(image.width >= 100 && image.width <= 600, `the QR PNG is ${image.width} px wide`);
      const corners = [0, image.width - 1, (image.height - 1) * image.width, image.width * image.height - 1];
      assert.ok(corners.every((i) => image.gray[i] === 255), "the quiet zone (white border) is kept");
      assert.ok(image.gray.some((v) => v === 0), "the QR PNG has dark modules");
      y4mFile = writeFakeCameraVideo(image, path.join(servers.work, "qr.y4m"));
    });

    await step("the phone signs in to the authenticator app", async () => {
      const phoneBrowser = await browsers.launch(fakeCameraFlags(y4mFile));
      phone = await browsers.newPage(phoneBrowser, "phone", { viewport: PHONE, isMobile: true, hasTouch: true });
      await phone.goto(`${CA}/app`);
      await phone.waitForSelector("form#login-form", { state: "visible" });
      await browsers.shot(phone, "app-sign-in-phone");
      await phone.fill("#login-username", PERSON.username);
      await phone.fill("#login-password", PERSON.password);
      await phone.click("button#login-submit");
      await phone.waitForSelector("button#scan-button:visible, #login-error:not([hidden])");
      assert.ok(await phone.isVisible("button#scan-button"),
        `the app signed in (login error: ${await textNow(phone, "#login-error")})`);
      assert.match(await text(phone, "#signed-in-as"), /Ada Lovelace/, "the app says who is signed in");
      await browsers.shot(phone, "app-signed-in-phone");
    });

    await step("the phone's camera reads the QR code and the app asks to confirm", async () => {
      await phone.click("button#scan-button");
      await phone.waitForSelector("#confirm:visible, #camera-error:not([hidden]), #scan-error:not([hidden])");
      assert.ok(await phone.isVisible("#confirm"),
        `the camera scan reached the confirmation (camera error: ${await textNow(phone, "#camera-error")}; ` +
        `scan error: ${await textNow(phone, "#scan-error")})`);
      assert.equal(await text(phone, "#confirm-service"), "Log in to ServiceB?", "the app names the service asking");
      assert.ok(await phone.isHidden("#pin-view"), "no PIN before the person confirms");
      await browsers.shot(phone, "app-confirm-phone");
      // ServiceB's page polls the status and notices the scan.
      await desktop.waitForSelector('#status[data-status="scanned"]');
      await browsers.shot(desktop, "serviceb-login-scanned");
    });

    await step("the person confirms and the app shows the PIN", async () => {
      await phone.click("button#confirm-yes");
      await phone.waitForSelector("#pin:visible");
      pin = await phone.getAttribute("#pin", "data-pin");
      assert.match(pin ?? "", /^\d{6}$/, "#pin's data-pin holds six digits");
      assert.equal(await text(phone, "#pin"), `${pin.slice(0, 3)} ${pin.slice(3)}`, "the PIN is shown as 123 456");
      assert.match(await text(phone, "#pin-countdown"), /^0[45]:\d\d$/, "the PIN countdown runs (5 minutes)");
      await browsers.shot(phone, "app-pin-phone");
    });

    await step("the PIN typed into ServiceB logs the person in", async () => {
      await desktop.fill("input#pin", pin);
      await desktop.click("button#pin-submit");
      await desktop.waitForSelector("#welcome, #error");
      assert.ok(await desktop.isVisible("#welcome"), `ServiceB accepted the PIN (error: ${await textNow(desktop, "#error")})`);
      assert.equal(desktop.url(), `${SB}/`, "ServiceB went back to its home page");
      assert.equal(await text(desktop, "#welcome"), `Welcome, ${PERSON.full_name}`, "ServiceB greets the person by full name");
      await browsers.shot(desktop, "serviceb-welcome");
      const cookie = (await desktop.context().cookies(SB)).find((c) => c.name === "sb_session");
      sessionToken = cookie?.value;
      assert.ok(sessionToken, "ServiceB keeps the session token in its sb_session cookie");
      const check = await postJson(`${CA}/api/auth/validate-session`, { session_token: sessionToken, service_id: service.id });
      assert.equal(check.data?.valid, true, `the session is valid at Central Auth: ${JSON.stringify(check.data)}`);
    });

    await step("logging out of ServiceB ends the session", async () => {
      await desktop.click("button#logout");
      await desktop.waitForSelector("#logged-out");
      assert.equal(await desktop.locator("#welcome").count(), 0, "no welcome after logout");
      await browsers.shot(desktop, "serviceb-logged-out");
      const check = await postJson(`${CA}/api/auth/validate-session`, { session_token: sessionToken, service_id: service.id });
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
      await browsers.shot(admin, "admin-history");
    });

    await step("the admin signs out", async () => {
      await admin.click("button#sign-out");
      await admin.waitForURL(`${CA}/admin/login`);
      await admin.waitForSelector("#admin-login-submit");
      await browsers.shot(admin, "admin-signed-out");
    });

    assert.deepEqual(browsers.pageErrors, [], "no page threw an uncaught error");
  } finally {
    await browsers.close();
    await servers.stop();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    t.diagnostic(`story took ${seconds} s; ${browsers.screenshotSummary()}`);
    browsers.report(t);
    servers.report(t);
    servers.removeWorkDir();
  }
});
