/* The hand-off desk's keyboard: J/K move between leads, A accepts, 1–6 choose a reason
   to return, R returns, N writes a note, ? opens the list of keys. Keys typed in a field
   are the field's (Esc leaves it). Without JavaScript the buttons do the same. */
(function () {
  "use strict";
  var cards = Array.prototype.slice.call(document.querySelectorAll("[data-desk-card]"));
  if (!cards.length) return;
  var current = 0;
  var failed = document.querySelector("[data-desk-card] .error");

  function select(index, scroll) {
    current = Math.max(0, Math.min(cards.length - 1, index));
    cards.forEach(function (card, i) { card.classList.toggle("is-current", i === current); });
    cards[current].focus({ preventScroll: !scroll });
    if (scroll) cards[current].scrollIntoView({ block: "nearest" });
  }

  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
      (target.tagName === "INPUT" && target.type !== "radio" && target.type !== "checkbox"));
  }

  cards.forEach(function (card, i) {
    card.addEventListener("focusin", function () {
      current = i;
      cards.forEach(function (other, j) { other.classList.toggle("is-current", j === i); });
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); cards[current].focus(); }
      return;
    }
    var card = cards[current];
    var key = event.key.toLowerCase();
    if (key === "j" || event.key === "ArrowDown") { select(current + 1, true); }
    else if (key === "k" || event.key === "ArrowUp") { select(current - 1, true); }
    else if (key === "a") { card.querySelector("[data-accept]").click(); }
    else if (key === "r") { card.querySelector("[data-return]").click(); }
    else if (key === "n") { card.querySelector("[data-note]").focus(); }
    else if (/^[1-6]$/.test(key)) {
      var radio = card.querySelector('input[name="reason_code"][data-key="' + key + '"]');
      radio.checked = true;
      if (radio.value === "other") { card.querySelector('input[name="reason"]').focus(); }
    }
    else if (event.key === "?") { var keys = document.getElementById("desk-keys"); keys.open = !keys.open; }
    else { return; }
    event.preventDefault();
  });

  select(failed ? cards.indexOf(failed.closest("[data-desk-card]")) : 0, Boolean(failed));
})();
