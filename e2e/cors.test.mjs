// CORS in a real browser: a page served on another port (another origin)
// calls Central Auth with fetch. From the origin listed in
// CORS_ALLOWED_ORIGINS the public routes answer and the page reads them; from
// an origin not listed, and on an admin route from any origin, Chromium
// blocks the call (fetch rejects), as it would for a hostile site.
//
// Run from the repository root: `node --test e2e/cors.test.mjs` (scripts/e2e
// runs it with the story). Needs the central-auth binary and Chromium.

import assert from "node:assert/strict";
import http from "node:http";
import { test } from "node:test";

import { chromium } from "playwright-core";

import { CHROMIUM_ARGS, CHROMIUM_BIN, requireChromium } from "./lib/browser.mjs";
import { requireServerBinaries, Servers } from "./lib/servers.mjs";

/** A site of its own on 127.0.0.1:`port`: one empty page. */
function startSite(port) {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!doctype html><title>another site</title><p>another site</p>");
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

/** Runs in the page: calls `url` with fetch; the status and body, or the error the browser gave. */
async function callFrom(page, url, init) {
  return page.evaluate(async ([url, init]) => {
    try {
      const response = await fetch(url, init);
      return { status: response.status, body: await response.json() };
    } catch (err) {
      return { blocked: `${err.name}: ${err.message}` };
    }
  }, [url, init]);
}

const postJson = (body) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

test("a page of a listed origin calls the public API; other origins and admin routes are blocked by the browser", { timeout: 90_000 }, async (t) => {
  requireServerBinaries();
  requireChromium();
  const servers = await Servers.prepare();
  const allowedPort = await Servers.freePort();
  const otherPort = await Servers.freePort();
  const allowed = `http://127.0.0.1:${allowedPort}`;
  const other = `http://127.0.0.1:${otherPort}`;
  const sites = [];
  let browser;
  try {
    await servers.startCentralAuth({
      adminPassword: "e2e cors console passphrase",
      env: { CORS_ALLOWED_ORIGINS: allowed },
    });
    const CA = servers.centralAuthUrl;
    sites.push(await startSite(allowedPort), await startSite(otherPort));
    browser = await chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });

    const page = await (await browser.newContext()).newPage();
    await page.goto(`${allowed}/`);
    const status = await callFrom(page, `${CA}/api/system/status`, {});
    assert.equal(status.status, 200, JSON.stringify(status));
    assert.equal(typeof status.body.open, "boolean");
    // A JSON POST needs a preflight; the listed origin passes it.
    const registered = await callFrom(page, `${CA}/api/register`, postJson({
      email: "grace@example.com",
      username: "grace",
      password: "compiler pioneer 1952",
      full_name: "Grace Hopper",
      phone: "+15551234567",
    }));
    assert.equal(registered.status, 201, JSON.stringify(registered));
    assert.equal(typeof registered.body.user_id, "string");
    // Even from the listed origin, the admin API stays same-origin.
    const admin = await callFrom(page, `${CA}/api/admin/login`, postJson({ username: "admin", password: "e2e cors console passphrase" }));
    assert.ok(admin.blocked, `admin login answered cross-origin: ${JSON.stringify(admin)}`);

    const stranger = await (await browser.newContext()).newPage();
    await stranger.goto(`${other}/`);
    const refused = await callFrom(stranger, `${CA}/api/system/status`, {});
    assert.ok(refused.blocked, `an unlisted origin read the answer: ${JSON.stringify(refused)}`);
    const refusedPost = await callFrom(stranger, `${CA}/api/register`, postJson({ username: "mallory" }));
    assert.ok(refusedPost.blocked, JSON.stringify(refusedPost));
    t.diagnostic(`blocked as expected: ${refused.blocked}`);
  } catch (err) {
    servers.report(t);
    throw err;
  } finally {
    await browser?.close().catch(() => {});
    for (const site of sites) site.close();
    await servers.stop();
    servers.removeWorkDir();
  }
});
