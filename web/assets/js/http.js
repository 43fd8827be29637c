// JSON over fetch for the pages: one call that never throws, returning the
// status, the parsed body and the problem document's `code` on failure.
// Loaded (deferred) before the page's own script, which calls it.
"use strict";

window.postJson = async function postJson(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch (_err) {
    return { ok: false, status: 0, data: null, code: "network_error", retryAfter: null };
  }
  let data = null;
  try {
    data = await response.json();
  } catch (_err) {
    data = null;
  }
  return {
    ok: response.ok,
    status: response.status,
    data,
    code: !response.ok && data && typeof data.code === "string" ? data.code : null,
    retryAfter: response.headers.get("Retry-After"),
  };
};
