// The campaign editor: the audience's live count as segments are ticked, the subject
// test's fields shown only for a test, and the previews (computer and phone) reloaded
// while the marketer types. Without this script the form still saves, shows its errors
// beside the fields, and the Preview buttons post into the frames.
(function () {
  "use strict";
  var form = document.getElementById("campaign-form");
  if (!form) { return; }
  form.classList.add("js-live");
  var token = form.querySelector("input[name=csrf_token]");
  var countLine = form.querySelector(".audience-count");
  var test = form.querySelector("input[name=test]");
  var single = form.querySelector(".subject-single");
  var variants = form.querySelector(".subject-test");
  var timer = null;
  var latest = 0;

  function ticked(name) {
    return Array.prototype.map.call(form.querySelectorAll("input[name=" + name + "]:checked"), function (box) {
      return box.value;
    });
  }

  function count() {
    var asked = ++latest;
    fetch(form.dataset.count, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify({ segments: ticked("segments"), exclude: ticked("exclude") })
    }).then(function (response) { return response.json(); }).then(function (data) {
      if (asked === latest) { countLine.textContent = countLine.dataset.template.replace("{n}", data.count); }
    }).catch(function () { countLine.textContent = ""; });
  }

  function showTest() {
    single.hidden = test.checked;
    variants.hidden = !test.checked;
  }

  // One form can have one submission under way: the phone's preview is asked for when
  // the computer's has loaded.
  var desktopButton = form.querySelector("button[data-frame=preview-desktop]");
  var phoneButton = form.querySelector("button[data-frame=preview-phone]");
  var desktopFrame = form.querySelector("iframe[name=preview-desktop]");
  var phoneWaiting = false;
  desktopFrame.addEventListener("load", function () {
    if (phoneWaiting) { phoneWaiting = false; phoneButton.click(); }
  });

  var previewSection = form.querySelector(".campaign-previews");
  function previews() {
    // Nothing written yet: no empty frames taking a phone's whole screen.
    var fields = form.querySelectorAll("[name=subject], [name=body], [name^=variants-][name$=-subject]");
    var written = Array.prototype.some.call(fields, function (element) { return element.value.trim(); });
    previewSection.hidden = !written;
    if (!written) { return; }
    phoneWaiting = true;
    desktopButton.click();
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "segments" || event.target.name === "exclude") { count(); }
    if (event.target === test) { showTest(); previews(); }
  });
  form.addEventListener("input", function (event) {
    var name = event.target.name || "";
    if (name === "body" || name === "subject" || name.indexOf("variants-") === 0) {
      clearTimeout(timer);
      timer = setTimeout(previews, 500);
    }
  });
  showTest();
  count();
  previews();
})();
