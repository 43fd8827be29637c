// Chromium for the story: launched headless with the flags below, pages that
// record their errors, screenshots numbered in story order (in
// target/e2e-screenshots/), and a screenshot of every open page when a step
// fails.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

import { requireExecutable } from "./require-executable.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const SHOTS = path.join(ROOT, "target", "e2e-screenshots");
export const CHROMIUM_BIN = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 375, height: 740 };
/** Longest wait for one element or page, in ms. */
const WAIT_MS = 15_000;

/** Fails the test, before anything starts, when the browser is missing. */
export function requireChromium() {
  requireExecutable(CHROMIUM_BIN, "Chromium", "Install it (apt-get install chromium) or set CHROMIUM_BIN.");
}

/** The browsers, pages and screenshots of one story. */
export class Browsers {
  #browsers = [];
  #openPages = []; // [label, page]
  #shotNumber = 0;
  #shots = [];
  /** Uncaught errors thrown in any page, prefixed with the page's label. */
  pageErrors = [];
  /** Console errors and warnings, and HTTP answers of 400 and above. */
  #consoleMessages = [];

  /** Empties the screenshot folder. */
  constructor() {
    fs.rmSync(SHOTS, { recursive: true, force: true });
    fs.mkdirSync(SHOTS, { recursive: true });
  }

  async launch(extraArgs = []) {
    requireExecutable(CHROMIUM_BIN, "Chromium", "Install it (apt-get install chromium) or set CHROMIUM_BIN; scripts/e2e does this.");
    // playwright gives every launch a fresh temporary profile (user data dir).
    const browser = await chromium.launch({
      executablePath: CHROMIUM_BIN,
      headless: true,
      args: [...CHROMIUM_ARGS, ...extraArgs],
      timeout: 30_000,
    });
    this.#browsers.push(browser);
    return browser;
  }

  /** A page in its own context; `label` names it in error reports and failure screenshots. */
  async newPage(browser, label, options) {
    const context = await browser.newContext(options);
    context.setDefaultTimeout(WAIT_MS);
    context.setDefaultNavigationTimeout(WAIT_MS);
    const page = await context.newPage();
    page.on("pageerror", (err) => this.pageErrors.push(`${label}: ${err.message}`));
    page.on("response", (response) => {
      if (response.status() >= 400) this.#consoleMessages.push(`${label}: HTTP ${response.status()} for ${response.url()}`);
    });
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") {
        const where = message.location()?.url;
        this.#consoleMessages.push(`${label} console.${message.type()}: ${message.text()}${where ? ` (${where})` : ""}`);
      }
    });
    this.#openPages.push([label, page]);
    return page;
  }

  /** A screenshot of the whole page, numbered in story order. */
  async shot(page, name) {
    this.#shotNumber += 1;
    const file = `${String(this.#shotNumber).padStart(2, "0")}-${name}.png`;
    await page.screenshot({ path: path.join(SHOTS, file), fullPage: true });
    this.#shots.push(file);
  }

  /** The same page at phone size (375x740), then back to its own size. */
  async phoneShot(page, name) {
    const size = page.viewportSize();
    await page.setViewportSize(PHONE);
    try {
      await this.shot(page, `${name}-phone`);
    } finally {
      await page.setViewportSize(size);
    }
  }

  /**
   * A `step(name, fn)` that runs one chapter as a subtest of `t`; the story
   * stops at the first failure, with a screenshot of every open page.
   */
  steps(t) {
    return async (name, fn) => {
      let failure = null;
      await t.test(name, async () => {
        try {
          await fn();
        } catch (err) {
          failure = err;
          await this.#screenshotOpenPages();
          throw err;
        }
      });
      if (failure) throw new Error(`the story stopped at "${name}": ${failure.message}`);
    };
  }

  async #screenshotOpenPages() {
    for (const [label, page] of this.#openPages) {
      if (!page.isClosed()) {
        await page.screenshot({ path: path.join(SHOTS, `FAILED-${label}.png`), fullPage: true }).catch(() => {});
      }
    }
  }

  async close() {
    for (const b of this.#browsers) await b.close().catch(() => {});
  }

  /** "N screenshots in target/e2e-screenshots/: 01-… 02-…" */
  screenshotSummary() {
    return `${this.#shots.length} screenshots in ${path.relative(ROOT, SHOTS)}/: ${this.#shots.join(" ")}`;
  }

  /** Console messages and page errors, as test diagnostics. */
  report(t) {
    for (const message of this.#consoleMessages) t.diagnostic(message);
    if (this.pageErrors.length) for (const e of this.pageErrors) t.diagnostic(`page error: ${e}`);
  }
}

/** The element's text, whitespace collapsed (waits for the element). */
export const text = async (page, selector) => (await page.textContent(selector))?.replace(/\s+/g, " ").trim();
/** The element's text right now, or null when it does not exist (for messages). */
export const textNow = (page, selector) =>
  page.evaluate((s) => document.querySelector(s)?.textContent.replace(/\s+/g, " ").trim() ?? null, selector);
