// The authenticator app in Chromium, for what the phone tells the person
// before a PIN (issue 13): a login link (/app#qr=…) opened from anywhere
// sends nothing until the person says they started a login; the confirm
// screen says which address the browser must show ("Continue only if your
// browser shows serviceb.example …") and, in words, whether the request comes
// from the phone's own network or another one (a relayed QR code).
//
// Run from the repository root: `node --test e2e/app-link.test.mjs`
// (scripts/e2e runs it with the others). Needs the central-auth binary and
// Chromium. Everything but the phone is done through the HTTP API.

import assert from "node:assert/strict";
import { test } from "node:test";

import { chromium } from "playwright-core";

import { CHROMIUM_ARGS, CHROMIUM_BIN, PHONE, requireChromium, text } from "./lib/browser.mjs";
import { postJson, requireServerBinaries, Servers } from "./lib/servers.mjs";

const ADMIN_PASSWORD = "e2e link console passphrase";
const PERSON = {
  email: "katherine.johnson@example.com",
  username: "katherine",
  password: "orbital mechanics 1962",
  full_name: "Katherine Johnson",
  phone: "+15551234567",
};

async function call(url, body, token) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body ?? {}),
  });
  const data = await response.json().catch(() => null);
  return { status: response.status, data };
}

test("a login link asks before it scans; the confirm screen names the address to check and the network", { timeout: 120_000 }, async (t) => {
  requireServerBinaries();
  requireChromium();
  const servers = await Servers.prepare();
  let browser;
  try {
    await servers.startCentralAuth({ adminPassword: ADMIN_PASSWORD });
    const CA = servers.centralAuthUrl;

    // The admin side, through the API: a service with a web address, and an approved person.
    const admin = await postJson(`${CA}/api/admin/login`, { username: "admin", password: ADMIN_PASSWORD });
    assert.equal(admin.status, 200, JSON.stringify(admin.data));
    const adminToken = admin.data.access_token;
    assert.ok(adminToken, `admin login answered ${JSON.stringify(admin.data)}`);
    const service = await call(`${CA}/api/services/register`,
      { name: "ServiceB", description: "e2e", url: "https://serviceb.example/login" }, adminToken);
    assert.equal(service.status, 201, JSON.stringify(service.data));
    const registered = await postJson(`${CA}/api/register`, PERSON);
    assert.equal(registered.status, 201, JSON.stringify(registered.data));
    const approved = await call(`${CA}/api/admin/approve/${registered.data.user_id}`, {}, adminToken);
    assert.equal(approved.status, 200, JSON.stringify(approved.data));

    /** A fresh QR code as ServiceB asks for it, for a browser at `clientIp`. */
    const newCode = async (clientIp) => {
      const generated = await postJson(`${CA}/api/auth/qr/generate`, {
        service_id: service.data.service_id,
        api_key: service.data.api_key,
        client_ip: clientIp,
        client_user_agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
      });
      assert.equal(generated.status, 201, JSON.stringify(generated.data));
      return generated.data.qr_token;
    };
    const statusOf = async (token) => (await postJson(`${CA}/api/auth/qr/status`, { qr_token: token })).data.status;

    browser = await chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
    const phone = await (await browser.newContext({ viewport: PHONE })).newPage();
    phone.setDefaultTimeout(15_000);
    const pageErrors = [];
    phone.on("pageerror", (err) => pageErrors.push(err.message));

    // Not signed in yet: the link waits for the sign-in, then still asks.
    const relayed = await newCode("198.51.100.20");
    await phone.goto(`${CA}/app#qr=${encodeURIComponent(relayed)}`);
    await phone.waitForSelector("form#login-form", { state: "visible" });
    assert.ok(await phone.isVisible("#pending-note"), "the sign-in says a login code is waiting");
    assert.ok(!(await phone.evaluate(() => window.location.hash)), "the token left the address bar");
    await phone.fill("#login-username", PERSON.username);
    await phone.fill("#login-password", PERSON.password);
    await phone.click("button#login-submit");
    await phone.waitForSelector("#link-view", { state: "visible" });
    assert.equal(await statusOf(relayed), "pending", "signing in did not scan the linked code");

    // Cancel leaves the code untouched.
    await phone.click("button#link-cancel");
    await phone.waitForSelector("button#scan-button", { state: "visible" });
    assert.equal(await statusOf(relayed), "pending", "a cancelled link is not scanned");

    // Opened again while the app is showing (a hash change): still asks first.
    await phone.evaluate((token) => { window.location.hash = `qr=${token}`; }, relayed);
    await phone.waitForSelector("#link-view", { state: "visible" });
    assert.ok(await phone.isHidden("#confirm"), "no confirm screen before Continue");
    assert.ok(await phone.isHidden("#pin-view"), "no PIN before Continue");
    assert.equal(await statusOf(relayed), "pending", "opening the link sent nothing");

    // Continue: the code is scanned, and the confirm screen says what to check.
    await phone.click("button#link-continue");
    await phone.waitForSelector("#confirm", { state: "visible" });
    assert.equal(await statusOf(relayed), "scanned");
    assert.equal(await text(phone, "#confirm-service"), "Log in to ServiceB?");
    assert.equal(await text(phone, "#confirm-check"),
      "Continue only if your browser shows serviceb.example in its address bar.");
    assert.match(await text(phone, "#confirm-network"), /another network than your phone \(198\.51\.100\.20\)/);
    assert.ok(await phone.evaluate(() => document.getElementById("confirm-network").classList.contains("alert-warn")),
      "another network is a warning");
    assert.ok(await phone.isHidden("#pin-view"), "still no PIN before \"Yes, it's me\"");
    await phone.click("button#confirm-no");
    await phone.waitForSelector("#denied-view", { state: "visible" });
    assert.equal(await statusOf(relayed), "denied");
    await phone.click("button#denied-done");

    // A code asked for from the phone's own address (127.0.0.1 here): the same network.
    const own = await newCode("127.0.0.1");
    await phone.evaluate((token) => { window.location.hash = `qr=${token}`; }, own);
    await phone.waitForSelector("#link-view", { state: "visible" });
    await phone.click("button#link-continue");
    await phone.waitForSelector("#confirm", { state: "visible" });
    assert.equal(await text(phone, "#confirm-network"), "This request comes from the same network as your phone.");
    assert.ok(await phone.evaluate(() => document.getElementById("confirm-network").classList.contains("alert-info")),
      "the same network is information, not a warning");
    await phone.click("button#confirm-yes");
    await phone.waitForSelector("#pin:visible");
    assert.match(await phone.getAttribute("#pin", "data-pin"), /^\d{6}$/);

    assert.deepEqual(pageErrors, [], "no errors in the app");
  } catch (err) {
    servers.report(t);
    throw err;
  } finally {
    await browser?.close().catch(() => {});
    await servers.stop();
    servers.removeWorkDir();
  }
});
