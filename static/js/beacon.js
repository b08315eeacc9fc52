/* Tells the site this page was seen: its path and query, and where the visitor came from
   (document.referrer). The page view and the visitor's cookies are the answer to this
   request (core.beacon), never to the page itself, so the page is the same bytes for every
   visitor and a cache in front may serve it. Without JavaScript a <noscript> pixel does
   the same, without the referrer.
   When the page is first hidden (the visitor leaves, closes the tab or switches away) it
   sends once more how many seconds the page was in view: the time on page. Only the first
   hiding is reported, which is what browsers deliver reliably (pagehide and unload are
   not fired on every mobile browser; visibilitychange is). */
(() => {
  const script = document.currentScript;
  const url = script && script.dataset.beacon;
  if (!url) {
    return;
  }
  const page = location.pathname + location.search;
  const send = (body) => {
    if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
      fetch(url, { method: "POST", body, keepalive: true, credentials: "same-origin" }).catch(() => {});
    }
  };
  send(new URLSearchParams({ u: page, r: document.referrer }));

  let inView = 0;
  let shownAt = document.visibilityState === "visible" ? performance.now() : null;
  let reported = false;
  const leave = () => {
    if (shownAt !== null) {
      inView += performance.now() - shownAt;
      shownAt = null;
    }
    if (!reported) {
      reported = true;
      send(new URLSearchParams({ u: page, e: "leave", s: String(Math.round(inView / 1000)) }));
    }
  };
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      leave();
    } else if (shownAt === null) {
      shownAt = performance.now();
    }
  });
  window.addEventListener("pagehide", leave);
})();
