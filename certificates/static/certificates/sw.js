/* Service worker of the offline certificate check, served as /verify/sw.js (scope /verify/).
 *
 * - install: cache the offline page, what it loads (scripts, stylesheet), the issuer profile
 *   and the status-list tokens the page names;
 * - a navigation to any /verify/… address that the network cannot answer gets the cached
 *   offline page, which reads the token from the address's #t= fragment (never sent to a
 *   server, so the cached page works whatever address it is shown under);
 * - other requests of these pages: network first (keeping fresh copies of what is cached,
 *   status tokens and the issuer profile), the cache when the network fails.
 * Addresses are relative to the scope, so a site under a path prefix works too.
 */
"use strict";
const CACHE = "lms-verify-v1"; // the same cache as verify-offline.js
const SCOPE = self.registration.scope;
const OFFLINE = new URL("offline", SCOPE).href;
const TOKEN_PATH = /\/certificates\/status\/\d+\/token$/;
const JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** A token response worth keeping: a compact JWS, not an error or a portal's login page. */
async function isToken(response) {
  return response.ok && JWS.test((await response.clone().text()).trim());
}

async function precache() {
  const cache = await caches.open(CACHE);
  const page = await fetch(OFFLINE, { cache: "reload" });
  if (!page.ok) throw new Error(`offline page: HTTP ${page.status}`);
  const html = await page.clone().text();
  await cache.put(OFFLINE, page);
  // Whatever the page loads (its scripts and the site's stylesheet) must work offline.
  const assets = [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"/g)]
    .map((match) => new URL(match[1].replace(/&amp;/g, "&"), OFFLINE).href);
  await cache.addAll(assets.map((url) => new Request(url, { cache: "reload" })));
  // The page's JSON (tojson escapes "<", so the block ends at the first "<").
  const cfg = JSON.parse(/id="lms-issuer">([^<]*)</.exec(html)[1]);
  const extras = [cfg.profile, ...cfg.lists.map((list) => list.token)];
  await Promise.all(extras.map(async (path) => {
    const url = new URL(path, OFFLINE).href;
    try {
      const response = await fetch(url, { cache: "reload" });
      if (TOKEN_PATH.test(path) ? await isToken(response) : response.ok) await cache.put(url, response);
    } catch { /* the page refreshes these too */ }
  }));
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("lms-verify-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

/** Pages: the network's answer, or the offline page when there is none (or a 5xx). */
async function navigate(event) {
  try {
    const response = await fetch(event.request);
    if (response.status < 500) {
      if (response.ok && event.request.url.split(/[?#]/)[0] === OFFLINE) {
        const copy = response.clone(); // new keys and lists reach the cached page
        event.waitUntil(caches.open(CACHE).then((cache) => cache.put(OFFLINE, copy)));
      }
      return response;
    }
  } catch { /* offline, or the server is down */ }
  return (await caches.match(OFFLINE)) || Response.error();
}

/** Other requests: network first; refresh the cached copy; the cache when offline. */
async function networkFirst(event) {
  const request = event.request;
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    const isStatus = TOKEN_PATH.test(new URL(request.url).pathname);
    const keep = isStatus ? await isToken(response) : response.ok && (await cache.match(request));
    if (keep) {
      const copy = response.clone();
      event.waitUntil(cache.put(request, copy));
    }
    return response;
  } catch (error) {
    const hit = await cache.match(request);
    if (hit) return hit;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (url.href.startsWith(SCOPE)) event.respondWith(navigate(event));
    return;
  }
  event.respondWith(networkFirst(event));
});
