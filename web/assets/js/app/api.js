// The three Central Auth calls the app makes; each resolves to postJson's
// result ({ok, status, data, code, retryAfter}) and never throws.
//
// postJson comes from /assets/js/http.js, a classic script shared with the
// register page and run (deferred, in document order) before app.js; it stays
// classic so that a copy still in a browser's cache keeps working after a deploy.
const postJson = (path, body) => window.postJson(path, body);

export const signIn = (username, password) => postJson("/api/mobile/login", { username, password });

export const scanQr = (qrToken, authKey) => postJson("/api/auth/qr/scan", { qr_token: qrToken, auth_key: authKey });

export const denyQr = (qrToken, authKey) => postJson("/api/auth/qr/deny", { qr_token: qrToken, auth_key: authKey });
