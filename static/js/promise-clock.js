/* The hand-off desk's countdowns tick without a reload. Each counts down the working time
   left to its response promise, and only in working hours (paused outside them, as the
   page says); at zero it turns "missed" and counts how far past it is, as the server does.
   The server gives its time (data-now), the working hours of the coming days as UTC
   intervals (data-windows) and each promise's working seconds left at that time
   (data-promise-left): the page counts from there on the browser's clock, every 30 s and
   at the moment a promise runs out or the working day begins or ends. */
(function () {
  "use strict";
  var clock = document.querySelector("[data-promise-clock]");
  var countdowns = Array.prototype.slice.call(document.querySelectorAll("[data-promise-left]"));
  if (!clock || !countdowns.length) return;
  var EVERY = 30000;
  var HOUR = 3600000;
  var served = Date.parse(clock.getAttribute("data-now"));
  var loaded = Date.now();
  var windows = clock.getAttribute("data-windows").split(" ").filter(Boolean).map(function (pair) {
    var ends = pair.split("/");
    return [Date.parse(ends[0]), Date.parse(ends[1])];
  });

  // The server's time now: the browser's clock may be set wrong, its ticking is not.
  function now() { return served + (Date.now() - loaded); }

  function workedSinceServed(at) {
    return windows.reduce(function (total, hours) {
      return total + Math.max(0, Math.min(hours[1], at) - Math.max(hours[0], served));
    }, 0);
  }

  function running(at) {
    return windows.some(function (hours) { return hours[0] <= at && at < hours[1]; });
  }

  function nextChange(at) {
    var ahead = [];
    windows.forEach(function (hours) { ahead.push(hours[0] - at, hours[1] - at); });
    return Math.min.apply(null, ahead.filter(function (wait) { return wait > 0; }).concat([EVERY]));
  }

  function words(template, ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    return template.replace("{h}", String(Math.floor(minutes / 60))).replace("{m}", String(minutes % 60));
  }

  function tick() {
    var at = now();
    var spent = workedSinceServed(at);
    var on = running(at);
    var wait = nextChange(at);
    countdowns.forEach(function (countdown) {
      var left = Number(countdown.getAttribute("data-promise-left")) * 1000 - spent;
      var missed = left <= 0;
      var badge = countdown.querySelector(".badge");
      var template = clock.getAttribute(missed ? "data-missed-words" : on ? "data-left-words" : "data-paused-words");
      badge.textContent = words(template, left);
      badge.classList.toggle("bad", missed);
      badge.classList.toggle("warn", !missed && left < HOUR);
      badge.classList.toggle("good", !missed && left >= HOUR);
      countdown.closest("[data-desk-card]").classList.toggle("is-missed", missed);
      if (on && !missed) wait = Math.min(wait, left);
    });
    // A little past the moment, so that the promise has run out when the clock is read.
    window.setTimeout(tick, wait + 50);
  }

  tick();
})();
