// The journey editor: move (drag with SortableJS, or the ↑ ↓ buttons), duplicate, add and
// delete steps in the page, then save them all at once. Without this script the same
// buttons post the form and the server re-shows it rearranged, so nothing depends on it.
// Previews: each step's frames show the mail as the server renders it; typing re-renders
// them (the Preview button posts the step into a frame, with the frame's own strict CSP).
(function () {
  "use strict";
  var form = document.getElementById("sequence-form");
  var list = document.getElementById("journey-steps");
  var template = document.getElementById("step-template");
  if (!form || !list) { return; }
  form.classList.add("js-live");
  var timers = { preview: new WeakMap(), words: new WeakMap() };
  var lastField = new WeakMap();
  var STEP_NAME = /steps-\d+-/g;

  function cards() { return Array.prototype.slice.call(list.querySelectorAll(":scope > li[data-step]")); }

  // Field names and ids carry the step's place (steps-2-subject): after a move, they
  // follow the new order, so the server reads the steps as the page shows them. The
  // frames keep their names: a browser names a frame when it is put in the page.
  function renumber() {
    var label = list.getAttribute("data-mail-label") || "";
    cards().forEach(function (card, index) {
      card.querySelectorAll("*").forEach(function (node) {
        ["name", "id", "for", "aria-describedby", "aria-labelledby"].forEach(function (attr) {
          var value = node.getAttribute(attr);
          if (value && value.indexOf("steps-") !== -1) { node.setAttribute(attr, value.replace(STEP_NAME, "steps-" + index + "-")); }
        });
      });
      card.querySelectorAll("[data-arrange]").forEach(function (button) {
        button.value = button.getAttribute("data-arrange") + "-" + index;
      });
      card.querySelectorAll("button[name=step]").forEach(function (button) { button.value = String(index); });
      var number = card.querySelector("[data-number]");
      if (number && label) { number.textContent = label.replace("__n__", String(index + 1)); }
      card.classList.toggle("is-first", index === 0);
    });
  }

  // The step's mail, as typed, into both frames (desktop and phone).
  function preview(card) {
    var button = card.querySelector(".preview-button");
    var frames = card.querySelectorAll("iframe");
    if (!button || frames.length < 2) { return; }
    var subject = card.querySelector("input[name$='-subject']");
    var body = card.querySelector("textarea[name$='-body']");
    if (subject && body && !subject.value.trim() && !body.value.trim()) { return; }
    // One post at a time: a form's second submission cancels a first still pending, so
    // the phone frame's goes once the desktop frame has its mail.
    frames[0].addEventListener("load", function () {
      button.formTarget = frames[1].name;
      button.click();
      button.formTarget = frames[0].name;
    }, { once: true });
    button.formTarget = frames[0].name;
    button.click();
  }

  function later(kind, card, job) {
    clearTimeout(timers[kind].get(card));
    timers[kind].set(card, setTimeout(job, 500));
  }

  function describeAll() {
    cards().forEach(function (card, index) { describe(card, index); });
  }

  // The wait's words ("下载后 2 天，工作日 9:00–18:00 发送") and any error of the delay, from the server.
  function describe(card, index) {
    var url = list.getAttribute("data-when-url");
    var delay = card.querySelector("input[name$='-delay']");
    var from = card.querySelector("select[name$='-delay_from']");
    var words = card.querySelector("[data-when]");
    if (!url || !delay || !words) { return; }
    var params = new URLSearchParams();
    params.set("delay", delay.value);
    params.set("from", from ? from.value : "previous");
    params.set("first", index === 0 ? "1" : "0");
    ["trigger_kind", "trigger_value", "window_start", "window_end"].forEach(function (name) {
      var field = form.elements[name];
      if (field) { params.set(name, field.value); }
    });
    form.querySelectorAll("input[name=days]:checked").forEach(function (day) { params.append("days", day.value); });
    fetch(url + "?" + params.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        words.textContent = data.words || data.error || "";
        words.classList.toggle("error-text", !data.words);
        var trigger = form.querySelector("[data-trigger]");
        if (trigger && data.trigger) { trigger.textContent = data.trigger; }
      })
      .catch(function () {});
  }

  // Names for a new card's frames, given before it is put in the page.
  function nameFrames(card, index) {
    var base = "preview-" + index;
    if (document.querySelector("iframe[name='" + base + "']")) { base = "preview-n" + (++named); }
    var frames = card.querySelectorAll("iframe");
    frames[0].name = base;
    frames[1].name = base + "-phone";
    card.querySelector(".preview-button").formTarget = base;
  }
  var named = 0;

  function arrange(button) {
    var verb = button.getAttribute("data-arrange");
    var card = button.closest("li[data-step]");
    if (verb === "add") {
      var fresh = template.content.firstElementChild.cloneNode(true);
      nameFrames(fresh, cards().length);
      list.appendChild(fresh);
      wire(fresh);
      renumber();
      describe(fresh, cards().indexOf(fresh));
      var details = fresh.querySelector("details.step-edit");
      if (details) { details.open = true; }
      var delay = fresh.querySelector("input[name$='-delay']");
      if (delay) { delay.focus(); }
      return;
    }
    if (!card) { return; }
    var other = null;
    if (verb === "up" && card.previousElementSibling) {
      other = card.previousElementSibling;
      list.insertBefore(card, other);
    } else if (verb === "down" && card.nextElementSibling) {
      other = card.nextElementSibling;
      list.insertBefore(other, card);
    } else if (verb === "copy") {
      var copy = card.cloneNode(true);
      var id = copy.querySelector("input[name$='-step_id']");
      if (id) { id.value = ""; }
      var remove = copy.querySelector("input[data-remove]");
      if (remove) { remove.checked = false; }
      copy.classList.remove("is-removed");
      copy.querySelectorAll(".step-figures, .journey-node.wait .node-note").forEach(function (node) { node.remove(); });
      copy.querySelectorAll("iframe").forEach(function (frame) { frame.removeAttribute("src"); });
      // A cloned textarea keeps what its source's markup said, not what was typed since.
      var from = card.querySelectorAll("input, textarea, select");
      copy.querySelectorAll("input, textarea, select").forEach(function (node, index) {
        if (node.type === "checkbox" || node.name.indexOf("step_id") !== -1 || node.type === "hidden") { return; }
        node.value = from[index].value;
      });
      nameFrames(copy, cards().indexOf(card) + 1);
      card.after(copy);
      wire(copy);
      renumber();
      describeAll();
      preview(copy);
      return;
    }
    renumber();
    describeAll();
    // A frame moved in the page loads again: show what is typed, not what was saved.
    if (other) { preview(card); preview(other); }
    button.focus();
  }


  function wire(card) {
    card.addEventListener("focusin", function (event) {
      if (event.target.matches("input[name$='-subject'], textarea[name$='-body']")) { lastField.set(card, event.target); }
    });
    var views = card.querySelector(".preview-views");
    if (views) {
      views.hidden = false;
      card.querySelector("[data-preview]").setAttribute("data-view", "desktop");
    }
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    if (button.hasAttribute("data-arrange")) {
      event.preventDefault();
      arrange(button);
    } else if (button.hasAttribute("data-insert")) {
      var card = button.closest("li[data-step]");
      var target = lastField.get(card) || card.querySelector("textarea[name$='-body']");
      var start = target.selectionStart == null ? target.value.length : target.selectionStart;
      var end = target.selectionEnd == null ? start : target.selectionEnd;
      var text = button.getAttribute("data-insert");
      target.value = target.value.slice(0, start) + text + target.value.slice(end);
      target.focus();
      target.setSelectionRange(start + text.length, start + text.length);
      target.dispatchEvent(new Event("input", { bubbles: true }));
    } else if (button.hasAttribute("data-view")) {
      var pane = button.closest("[data-preview]");
      pane.setAttribute("data-view", button.getAttribute("data-view"));
      pane.querySelectorAll("[data-view]").forEach(function (other) {
        if (other.tagName === "BUTTON") { other.setAttribute("aria-pressed", String(other === button)); }
      });
    }
  });

  form.addEventListener("change", function (event) {
    var card = event.target.closest("li[data-step]");
    if (event.target.matches("input[data-remove]") && card) {
      card.classList.toggle("is-removed", event.target.checked);
    }
  });

  form.addEventListener("input", function (event) {
    var card = event.target.closest("li[data-step]");
    if (!card) {
      // The trigger and the window are part of every wait's words.
      if (event.target.matches("[name=trigger_kind], [name=trigger_value], [name=days], [name=window_start], [name=window_end]")) {
        later("words", form, describeAll);
      }
      return;
    }
    if (event.target.matches("input[name$='-delay'], select[name$='-delay_from']")) {
      later("words", card, function () { describe(card, cards().indexOf(card)); });
      return;
    }
    later("preview", card, function () { preview(card); });
  });
  form.addEventListener("change", function (event) {
    if (event.target.matches("select[name$='-delay_from']")) {
      var card = event.target.closest("li[data-step]");
      describe(card, cards().indexOf(card));
    }
  });

  form.addEventListener("submit", renumber);

  // Preview for a real lead: the choice goes with every later preview post.
  var chooser = document.getElementById("preview-lead");
  if (chooser) {
    chooser.form.querySelector("button[type=submit]").style.display = "none";
    chooser.addEventListener("change", function () {
      var hidden = form.querySelector("input[name=lead]");
      if (!hidden) {
        hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "lead";
        form.appendChild(hidden);
      }
      hidden.value = chooser.value;
      cards().forEach(preview);
    });
  }

  cards().forEach(wire);
  renumber();
  // Saved steps' frames load with the page; steps not saved yet, and every step of a
  // page shown again after a refused save or a rearrangement, render from what was typed.
  var reshown = form.hasAttribute("data-reshown");
  cards().forEach(function (card) {
    var frame = card.querySelector("iframe");
    if (frame && (reshown || !frame.getAttribute("src"))) { preview(card); }
  });

  if (window.Sortable) {
    window.Sortable.create(list, {
      handle: ".drag-handle",
      draggable: "li[data-step]",
      animation: 150,
      // Mouse and touch events rather than the browser's drag and drop, which does not
      // scroll the page while dragging in every browser.
      forceFallback: true,
      onEnd: function (event) { renumber(); describeAll(); preview(event.item); }
    });
  }
})();
