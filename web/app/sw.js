// Central Auth — service worker for the authenticator app (/app).
//
// Caches the app shell (page, style, scripts, QR decoder, icons) and serves it
// cache-first, refreshing the cached copy in the background so that the next
// start picks up a new version. API calls (/api/…) are never cached: they go
// straight to the network, and so does everything that is not the shell.
"use strict";

// Bump the version whenever SHELL changes, so that the old cache is dropped.
const CACHE = "central-auth-app-v4";
const SHELL = [
  "/app",
  "/app/manifest.webmanifest",
  "/assets/css/site.css",
  "/assets/js/http.js",
  "/assets/js/app.js",
  // The modules app.js imports (also preloaded by app/index.html).
  "/assets/js/app/account.js",
  "/assets/js/app/api.js",
  "/assets/js/app/camera.js",
  "/assets/js/app/confirm.js",
  "/assets/js/app/countdown.js",
  "/assets/js/app/dom.js",
  "/assets/js/app/format.js",
  "/assets/js/app/link.js",
  "/assets/js/app/messages.js",
  "/assets/js/app/offline.js",
  "/assets/js/app/qr-token.js",
  "/assets/js/app/scan.js",
  "/assets/js/app/sign-in.js",
  "/assets/js/app/sign-out.js",
  "/assets/js/app/state.js",
  "/assets/js/app/views.js",
  "/assets/vendor/jsqr/jsQR.js",
  "/assets/img/icon.svg",
  "/assets/img/icon-192.png",
  "/assets/img/icon-512.png",
  "/assets/img/icon-maskable-512.png",
];
const SHELL_PATHS = new Set(SHELL);

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith("central-auth-app-") && name !== CACHE)
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // Never answer or store API calls from the cache.
  if (url.pathname === "/api" || url.pathname.startsWith("/api/")) return;
  // `/app?anything` (and `/app#qr=…`, whose fragment never reaches us) is the page.
  const key = url.pathname;
  if (!SHELL_PATHS.has(key)) return;

  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const cached = await cache.match(key);
      const refresh = fetch(key, { cache: "no-cache" })
        .then((response) => {
          if (response.ok && response.type === "basic") {
            return cache.put(key, response.clone()).then(() => response);
          }
          return response;
        })
        .catch(() => null);
      if (cached) {
        event.waitUntil(refresh);
        return cached;
      }
      const fresh = await refresh;
      return fresh || Response.error();
    }),
  );
});
