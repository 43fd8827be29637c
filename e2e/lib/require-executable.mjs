// The one check the test makes of the machine before it starts anything: the
// binaries and the browser it was told to use are there. Nothing is skipped.

import assert from "node:assert/strict";
import fs from "node:fs";

/** Fails the test with `hint` unless `file` is an executable file. */
export function requireExecutable(file, what, hint) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    assert.fail(`${what} not found or not executable at ${file}. ${hint}`);
  }
}
