/* Tells the site this page was seen: its path and query, and where the visitor came from
   (document.referrer). The page view and the visitor's cookies are the answer to this
   request (core.beacon), never to the page itself, so the page is the same bytes for every
   visitor and a cache in front may serve it. Without JavaScript a <noscript> pixel does
   the same, without the referrer. */
(() => {
  const script = document.currentScript;
  const url = script && script.dataset.beacon;
  if (!url) {
    return;
  }
  const body = new URLSearchParams({ u: location.pathname + location.search, r: document.referrer });
  if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
    fetch(url, { method: "POST", body, keepalive: true, credentials: "same-origin" }).catch(() => {});
  }
})();
