/* Search results: tell the analytics which result was opened (a signed token per result),
   without delaying the navigation. */
(function () {
  "use strict";
  var endpoint = "/api/search/click";
  function send(token) {
    var body = JSON.stringify({ token: token });
    if (navigator.sendBeacon) {
      navigator.sendBeacon(endpoint, new Blob([body], { type: "application/json" }));
    } else {
      fetch(endpoint, { method: "POST", headers: { "Content-Type": "application/json" }, body: body, keepalive: true });
    }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-search-click]");
    if (link) { send(link.getAttribute("data-search-click")); }
  });
  window.lodestarSearchClick = send;
})();
