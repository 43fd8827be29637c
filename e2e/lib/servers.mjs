// The two binaries under test, central-auth and example-service (ServiceB), as
// child processes: a scratch directory and free ports for them, readiness
// polling, their output kept for failure reports, and cleanup, also when the
// test process itself dies.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { requireExecutable } from "./require-executable.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const CENTRAL_AUTH_BIN = path.resolve(ROOT, process.env.CENTRAL_AUTH_BIN || "target/debug/central-auth");
const EXAMPLE_SERVICE_BIN = path.resolve(ROOT, process.env.EXAMPLE_SERVICE_BIN || "target/debug/example-service");

/** Fails the test, before anything starts, when a binary is missing. */
export function requireServerBinaries() {
  requireExecutable(CENTRAL_AUTH_BIN, "central-auth binary",
    "Build it with `cargo build -p central-auth -p example-service --bins` or set CENTRAL_AUTH_BIN.");
  requireExecutable(EXAMPLE_SERVICE_BIN, "example-service binary",
    "Build it with `cargo build -p central-auth -p example-service --bins` or set EXAMPLE_SERVICE_BIN.");
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

/** POSTs `body` as JSON; answers the status and the parsed body (or its text). */
export async function postJson(url, body) {
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

/** Central Auth and ServiceB for one story, on 127.0.0.1. */
export class Servers {
  /** A free port on 127.0.0.1, for a server of the test's own. */
  static freePort = freePort;

  #centralAuthPort;
  #exampleServicePort;
  #env;
  #centralAuth = null;
  #exampleService = null;

  /** A scratch directory (databases, the camera video) and a free port for each server. */
  static async prepare() {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "central-auth-e2e-"));
    const centralAuthPort = await freePort();
    const exampleServicePort = await freePort();
    return new Servers(work, centralAuthPort, exampleServicePort);
  }

  constructor(work, centralAuthPort, exampleServicePort) {
    this.work = work;
    this.#centralAuthPort = centralAuthPort;
    this.#exampleServicePort = exampleServicePort;
    this.centralAuthUrl = `http://127.0.0.1:${centralAuthPort}`;
    this.exampleServiceUrl = `http://127.0.0.1:${exampleServicePort}`;
    this.#env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? work,
      RUST_LOG: "warn",
      NO_COLOR: "1",
    };
  }

  /**
   * Central Auth on a fresh SQLite database, operating hours off; resolves once /readyz answers.
   * `env`: more settings, e.g. `{ CORS_ALLOWED_ORIGINS: "…" }`.
   */
  async startCentralAuth({ adminPassword, env = {} }) {
    this.#centralAuth = startProcess("central-auth", CENTRAL_AUTH_BIN, ["serve"], {
      ...this.#env,
      BIND_ADDR: `127.0.0.1:${this.#centralAuthPort}`,
      PUBLIC_URL: this.centralAuthUrl,
      DATABASE_URL: `sqlite://${path.join(this.work, "central-auth.db")}`,
      ADMIN_PASSWORD: adminPassword,
      OPERATING_HOURS_ENABLED: "false",
      ...env,
    }, this.work);
    await waitForHttp(`${this.centralAuthUrl}/readyz`, this.#centralAuth);
  }

  /** The example service with the credentials Central Auth issued; resolves once its home page answers. */
  async startExampleService({ serviceId, apiKey }) {
    this.#exampleService = startProcess("example-service", EXAMPLE_SERVICE_BIN, [
      "--central-auth-url", this.centralAuthUrl,
      "--service-id", serviceId,
      "--bind", `127.0.0.1:${this.#exampleServicePort}`,
    ], { ...this.#env, SERVICE_API_KEY: apiKey }, this.work);
    await waitForHttp(`${this.exampleServiceUrl}/`, this.#exampleService);
  }

  /** Stops whichever servers were started, ServiceB first. */
  async stop() {
    for (const record of [this.#exampleService, this.#centralAuth]) if (record) await stopProcess(record);
  }

  /** The last lines each server wrote, as test diagnostics. */
  report(t) {
    for (const record of [this.#centralAuth, this.#exampleService]) {
      if (!record?.output.trim()) continue;
      t.diagnostic(`${record.name} output (last lines):`);
      for (const line of record.output.trim().split("\n").slice(-20)) t.diagnostic(`  ${line}`);
    }
  }

  removeWorkDir() {
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}
