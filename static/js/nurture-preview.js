// Live preview of sequence steps: while a marketer types, each step's iframe reloads
// with the mail the server renders for a sample lead. It presses the step's Preview
// button (a form post into the iframe, which keeps working without this script), so
// the preview is a real page with its own strict Content-Security-Policy.
(function () {
  "use strict";
  var form = document.getElementById("sequence-form");
  if (!form) { return; }
  form.classList.add("js-live");
  var timers = {};

  function previewButton(fieldset) {
    return fieldset && fieldset.querySelector("button.preview-button");
  }

  form.addEventListener("input", function (event) {
    var fieldset = event.target.closest("fieldset.step");
    var button = previewButton(fieldset);
    if (!button) { return; }
    clearTimeout(timers[button.value]);
    timers[button.value] = setTimeout(function () { button.click(); }, 500);
  });
  form.querySelectorAll("fieldset.step").forEach(function (fieldset) {
    var button = previewButton(fieldset);
    if (button) { button.click(); }
  });
})();
