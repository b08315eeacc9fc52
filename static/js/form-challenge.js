/* The lead forms' proof-of-work (ALTCHA, vendored under static/vendor/altcha): the widget
   fetches a challenge when the form is sent, solves it in a worker and sends the form on.
   Browsers that cannot run it (no secure context, no Web Crypto) send the form without
   a solution and the server falls back on its other signals, or asks the person to
   confirm: the check never keeps anyone from sending a form. */
const vendor = new URL("../vendor/altcha/", import.meta.url);

if (window.isSecureContext && window.crypto && window.crypto.subtle && document.querySelector("altcha-widget")) {
  await import(new URL("altcha.min.js", vendor).href);
  await import(new URL("zh-cn.js", vendor).href);
  // The build without bundled workers (the site's CSP forbids blob: workers).
  globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(new URL("pbkdf2.js", vendor)));
  for (const widget of document.querySelectorAll("altcha-widget")) {
    widget.addEventListener("statechange", (event) => {
      // A failed check would hold the form back: send it as a browser without the widget.
      if (event.detail && event.detail.state === "error") {
        const form = widget.closest("form");
        if (form) {
          HTMLFormElement.prototype.submit.call(form);
        }
      }
    });
  }
}
