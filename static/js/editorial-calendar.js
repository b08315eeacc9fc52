// The editorial calendar: drag a planned piece to another day (SortableJS) and the new
// date is posted at once; the server may refuse (a past day, another team's piece), and
// the piece goes back where it was with the reason. Without this script each piece's
// "Move or start" date field does the same by posting the form.
(function () {
  "use strict";
  var grid = document.querySelector(".cal-grid");
  var status = document.querySelector(".cal-status");
  if (!grid || !window.Sortable || !window.fetch) { return; }

  function say(text, isError) {
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("is-error", Boolean(isError));
  }

  function putBack(event) {
    var before = event.from.children[event.oldIndex] || null;
    event.from.insertBefore(event.item, before);
  }

  function moved(event) {
    var item = event.item;
    var day = event.to.getAttribute("data-date");
    if (event.to === event.from || !day) { return; }
    var token = item.querySelector("input[name=csrf_token]");
    var body = new FormData();
    if (token) { body.append("csrf_token", token.value); }
    body.append("target_date", day);
    item.setAttribute("aria-busy", "true");
    fetch(item.getAttribute("data-move-url"), {
      method: "POST",
      body: body,
      headers: { Accept: "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (answer) {
      item.removeAttribute("aria-busy");
      if (!answer.ok) {
        putBack(event);
        say(answer.data.error || "", true);
        return;
      }
      var field = item.querySelector("input[name=target_date]");
      if (field) { field.value = answer.data.date; }
      say(answer.data.message, false);
    }).catch(function () {
      item.removeAttribute("aria-busy");
      putBack(event);
      say(grid.getAttribute("data-failed") || "", true);
    });
  }

  grid.querySelectorAll(".cal-items").forEach(function (list) {
    window.Sortable.create(list, {
      group: "calendar",
      draggable: "li[data-plan]",
      // The date field, buttons and links inside a piece stay usable: dragging starts
      // elsewhere on the card.
      filter: "input, button, select, summary, a",
      preventOnFilter: false,
      animation: 150,
      // Mouse and touch events rather than the browser's drag and drop, which does not
      // scroll the page while dragging in every browser.
      forceFallback: true,
      onEnd: moved
    });
  });
})();
