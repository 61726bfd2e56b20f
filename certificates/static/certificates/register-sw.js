/* Registers the service worker of the offline certificate check (scope /verify/), so that a
 * certificate's QR code can be checked later without internet. Loaded with `defer` by the
 * /verify pages; the worker's address is the script tag's data-sw (no inline script). */
"use strict";
(() => {
  const script = document.currentScript;
  if (!("serviceWorker" in navigator) || !script || !script.dataset.sw) return;
  navigator.serviceWorker.register(script.dataset.sw).catch(() => {
    /* Not allowed here (plain http, private mode): the online check still works. */
  });
})();
