/* Offline check of a certificate's QR code: "<verification URL>#t=<token>".
 * The token is a compact JWS (RFC 7515/8037): b64url(header).b64url(payload).b64url(sig),
 * header {"alg":"EdDSA","kid":…}, sig = Ed25519 over the ASCII of the first two parts.
 * Revocation: a Bitstring Status List as a token of the same kind, payload
 * {"v":1,"sl":…,"l":"u"+b64url(gzip(bits)),"t":…,"iss":…}. What to trust comes from the
 * page's JSON (#lms-issuer); every word shown from its <template id="lms-offline-texts">.
 */
"use strict";
(() => {
  const CACHE = "lms-verify-v1"; // shared with sw.js
  const MAX_LIST = 16 << 20; // bytes: a "gzip bomb" is refused, as on the server
  const TOKEN_PATH = /\/certificates\/status\/\d+\/token$/;
  const CLAIMS = { v: "number", id: "string", n: "string", a: "string", d: "string",
    s: "string", iss: "string", sl: "string", si: "number" };
  const $ = (id) => document.getElementById(id);
  const cfg = JSON.parse($("lms-issuer").textContent);
  const lang = document.documentElement.lang || undefined;
  const here = (path) => new URL(path, location.href).href;

  /** Ends a check with a verdict: "invalid", "unknown-key", "unsupported", "not-token". */
  class Fail extends Error {}
  const fail = (verdict) => { throw new Fail(verdict); };

  const text = (key, values = {}) => $("lms-offline-texts").content
    .querySelector(`[data-msg="${key}"]`).textContent.trim()
    .replace(/\{(\w+)\}/g, (all, name) => values[name] ?? all);
  const format = (date, options) => {
    try { return new Intl.DateTimeFormat(lang, options).format(date); } catch { return ""; }
  };
  const when = (iso) => format(new Date(iso), { dateStyle: "long", timeStyle: "short" }) || iso;
  const day = (ymd) => format(new Date(`${ymd}T00:00Z`), { dateStyle: "long", timeZone: "UTC" }) || ymd;

  // --- decoding ---

  function b64url(bytes) {
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte); // any length (no spread)
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // Strict RFC 4648 §5 without padding, as certificates/credentials/jws.py: only the
  // canonical spelling (unused low bits zero), so each token has exactly one spelling.
  function unb64url(value) {
    if (!/^[\w-]*$/.test(value) || value.length % 4 === 1) fail("invalid");
    const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    if (b64url(bytes) !== value) fail("invalid");
    return bytes;
  }

  function jsonObject(bytes) {
    let value = null;
    try { value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)); } catch { /* below */ }
    if (!value || typeof value !== "object" || Array.isArray(value)) fail("invalid");
    return value;
  }

  // Multikey: "z" + base58btc(0xed 0x01 + 32-byte Ed25519 public key).
  const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  function multikey(value) {
    if (!/^z[1-9A-HJ-NP-Za-km-z]+$/.test(value)) return null;
    let number = 0n;
    for (const c of value.slice(1)) number = number * 58n + BigInt(B58.indexOf(c));
    const bytes = [];
    for (; number > 0n; number >>= 8n) bytes.unshift(Number(number & 255n));
    // (no leading "1"s, i.e. zero bytes: a key starts with 0xed)
    const ok = bytes.length === 34 && bytes[0] === 0xed && bytes[1] === 0x01;
    return ok ? new Uint8Array(bytes.slice(2)) : null;
  }

  // --- signatures ---

  /** Check a compact JWS with `keys` (kid → raw key); resolve to its payload. */
  async function verifyJws(token, keys) {
    const parts = token.split(".");
    if (parts.length !== 3 || !parts.every(Boolean)) fail("invalid");
    const header = jsonObject(unb64url(parts[0]));
    if (header.alg !== "EdDSA" || "crit" in header) fail("invalid");
    const raw = keys.get(header.kid) || fail("unknown-key");
    const payload = unb64url(parts[1]);
    const signature = unb64url(parts[2]);
    if (signature.length !== 64) fail("invalid");
    let key;
    try {
      key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    } catch { fail("unsupported"); } // a browser without Ed25519 in WebCrypto
    const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
    if (!(await crypto.subtle.verify("Ed25519", key, signature, signed))) fail("invalid");
    return jsonObject(payload); // parsed only once authenticated
  }

  /** Exactly the version-1 claims (jws.py: check_certificate_claims), of this issuer. */
  function checkClaims(c) {
    const names = Object.keys(c);
    const ok = names.length === 9 && names.every((name) => typeof c[name] === CLAIMS[name])
      && c.v === 1 && Number.isInteger(c.si) && c.si >= 0 && /^\d{4}-\d\d-\d\d$/.test(c.d)
      && c.iss === cfg.issuer;
    return ok ? c : fail("invalid");
  }

  // --- saved on this device (Cache Storage, shared with the service worker) ---

  async function store() {
    try { return await caches.open(CACHE); } catch { return null; } // no Cache API here
  }

  async function saved(url) {
    const hit = await (await store())?.match(url);
    return hit ? hit.text() : null;
  }

  async function savedListUrls() {
    const requests = (await (await store())?.keys()) || [];
    return requests.map((r) => r.url).filter((url) => TOKEN_PATH.test(new URL(url).pathname));
  }

  /** The keys in the page, and those of the issuer profile last fetched (keys rotate). */
  async function loadKeys() {
    const keys = new Map();
    const add = (id, value) => { const raw = multikey(value); if (raw) keys.set(id, raw); };
    for (const key of cfg.keys) add(key.id, key.multikey);
    try {
      const prefix = `${cfg.issuer}#`; // method ids are "<issuer>#<kid>"
      for (const m of JSON.parse(await saved(here(cfg.profile))).verificationMethod) {
        if (String(m.id).startsWith(prefix)) add(m.id.slice(prefix.length), String(m.publicKeyMultibase));
      }
    } catch { /* none saved yet */ }
    return keys;
  }

  /** This site's address of the token of list `sl` (which must be under the issuer's). */
  function tokenUrl(sl) {
    const known = cfg.lists.find((list) => list.sl === sl);
    if (known) return here(known.token);
    const id = sl.startsWith(`${cfg.base}/`) && /\/certificates\/status\/(\d+)$/.exec(sl);
    return id ? here(`${cfg.root}certificates/status/${id[1]}/token`) : null;
  }

  async function readList(token, keys) {
    const list = await verifyJws(token.trim(), keys);
    const ok = list.v === 1 && list.iss === cfg.issuer && typeof list.sl === "string"
      && typeof list.t === "string" && /^u/.test(list.l);
    return ok ? list : fail("invalid");
  }

  // encodedList = "u" (multibase base64url) + base64url(GZIP(bitstring)).
  async function listBits(list) {
    const gzip = new Blob([unb64url(list.l.slice(1))]).stream();
    const reader = gzip.pipeThrough(new DecompressionStream("gzip")).getReader();
    const chunks = [];
    let size = 0;
    for (let part; !(part = await reader.read()).done;) {
      size += part.value.length;
      if (size > MAX_LIST) { reader.cancel(); fail("invalid"); }
      chunks.push(part.value);
    }
    const bits = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) { bits.set(chunk, at); at += chunk.length; }
    return bits;
  }

  /** Fetch a list's token; keep it if genuine, of that list, and not older than the saved. */
  async function refreshList(url, keys) {
    try {
      const response = await fetch(url, { cache: "no-store" });
      const token = response.ok ? (await response.text()).trim() : fail("invalid");
      const list = await readList(token, keys);
      if (tokenUrl(list.sl) !== url) return null;
      const old = await saved(url);
      try { if (old && (await readList(old, keys)).t > list.t) return old; } catch { /* replace it */ }
      await (await store())?.put(url, new Response(token, { headers: { "Content-Type": "text/plain" } }));
      return token;
    } catch { return null; }
  }

  /** Online: save the issuer profile (new keys) and every list seen, fresh. */
  async function refresh() {
    try {
      const response = await fetch(cfg.profile, { cache: "no-store" });
      if (Array.isArray((await response.clone().json()).verificationMethod)) {
        await (await store())?.put(here(cfg.profile), response);
      }
    } catch { /* offline after all */ }
    const keys = await loadKeys();
    const urls = new Set([...cfg.lists.map((list) => here(list.token)), ...(await savedListUrls())]);
    await Promise.all([...urls].map((url) => refreshList(url, keys)));
  }

  /** Say what is saved: the oldest signing time is what the checks can promise. */
  async function showSaved() {
    const keys = await loadKeys();
    let oldest = null;
    for (const url of await savedListUrls()) {
      try {
        const { t } = await readList(await saved(url), keys);
        if (!oldest || t < oldest) oldest = t;
      } catch { /* an unreadable entry does not count */ }
    }
    const line = $("lms-saved");
    line.textContent = oldest ? text("saved", { when: when(oldest) }) : text("saved-none");
    line.hidden = false;
    line.dataset.state = "ready";
  }

  // --- the check ---

  /** Check a QR code's text (or a bare token); resolve to {verdict, claims?, when?}. */
  async function check(input) {
    const value = input.trim();
    const hash = value.indexOf("#t=");
    const token = hash < 0 ? value : value.slice(hash + 3);
    if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) fail("not-token");
    if (!(window.crypto?.subtle && window.DecompressionStream)) fail("unsupported");
    const keys = await loadKeys();
    const claims = checkClaims(await verifyJws(token, keys));
    // An address in front of the token must name the certificate the token is about.
    const code = /\/v(?:erify)?\/([\w-]+)$/.exec(hash < 0 ? "" : value.slice(0, hash));
    const id = code?.[1].replace(/-/g, "").toLowerCase();
    if (id?.length === 32 && id !== claims.id) fail("invalid");

    const url = tokenUrl(claims.sl);
    let listToken = url && (await saved(url));
    if (!listToken && url && navigator.onLine) listToken = await refreshList(url, keys); // new
    try {
      const list = await readList(listToken || "", keys);
      const bits = await listBits(list);
      if (list.sl !== claims.sl || claims.si >= bits.length * 8) fail("invalid");
      // Bit 0 is the most significant bit of byte 0 (Bitstring Status List §3.1).
      const revoked = (bits[Math.floor(claims.si / 8)] >> (7 - (claims.si % 8))) & 1;
      return { verdict: revoked ? "revoked" : "valid", claims, when: list.t };
    } catch {
      return { verdict: "unknown-status", claims };
    }
  }

  let shown = "";
  function render(result) {
    const key = JSON.stringify(result);
    if (key === shown) return; // do not repeat the same news to screen readers
    shown = key;
    const verdict = $("lms-verdict");
    const tone = { valid: " ok", "unknown-status": "" }[result.verdict] ?? " bad";
    verdict.className = `verdict${tone}`;
    verdict.dataset.verdict = result.verdict;
    verdict.querySelector("strong").textContent = text(`${result.verdict}-title`);
    verdict.querySelector("span").textContent = text(result.verdict,
      { when: result.when ? when(result.when) : "", issuer: cfg.issuer_name });
    verdict.hidden = false;
    // Only claims whose signature was verified are ever shown.
    const claims = result.claims || {};
    $("lms-facts").hidden = !result.claims;
    for (const cell of document.querySelectorAll("[data-claim]")) {
      const name = cell.dataset.claim;
      cell.textContent = name === "issuer" ? cfg.issuer_name : name === "d" ? day(claims.d) : claims[name] ?? "";
    }
  }

  async function run(input) {
    try { render(await check(input)); } catch (error) {
      // Anything but a decided verdict is this browser's failure, never "not genuine".
      render({ verdict: error instanceof Fail ? error.message : "unsupported" });
    }
  }

  const form = $("lms-offline-form");
  const field = $("lms-token");
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    shown = "";
    await run(field.value);
    $("lms-result").scrollIntoView({ block: "nearest" }); // the result is above the form
  });
  // Fragments never reach a server: this works on the cached page, whatever its address.
  function fromAddress() {
    if (!location.hash.startsWith("#t=")) return false;
    field.value = location.href;
    return true;
  }
  window.addEventListener("hashchange", () => fromAddress() && run(field.value));

  (async () => {
    if (fromAddress()) await run(field.value);
    if (navigator.onLine) {
      await refresh();
      if (field.value.trim()) await run(field.value); // again, with the fresh list
    }
    await showSaved();
  })();
})();
