// What the app is in the middle of, shared by the flows: one object so that
// every module sees the same values (imported bindings are read-only).

export const state = {
  /** A QR token waiting for a sign-in (the page was opened at /app#qr=…). */
  pendingToken: null,
  /** The token of a login link (/app#qr=…) waiting for the person's "Continue". */
  linkToken: null,
  /** The login being confirmed: {token, pin, deadline, service, requester}. */
  current: null,
  /** A request is in flight: a second tap must not send another. */
  busy: false,
};
