// The segment builder's live preview: while a marketer edits the rules, the count and
// ten members of the segment as typed come from the server (the same check and query a
// saved segment gets), or the problems with the rules. Without this script the form
// still saves and shows its errors beside the field.
(function () {
  "use strict";
  var form = document.getElementById("segment-form");
  if (!form) { return; }
  var panel = document.querySelector(".segment-preview");
  var countLine = panel.querySelector(".segment-count");
  var errors = panel.querySelector(".segment-errors");
  var rows = panel.querySelector("tbody");
  var token = form.querySelector("input[name=csrf_token]");
  var rules = form.querySelector("textarea[name=rules]");
  var timer = null;
  var latest = 0;

  function cell(text, href) {
    var td = document.createElement("td");
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      td.appendChild(a);
    } else {
      td.textContent = text;
    }
    return td;
  }

  function show(data) {
    panel.hidden = false;
    errors.textContent = "";
    rows.textContent = "";
    if (data.errors) {
      countLine.textContent = "";
      data.errors.forEach(function (message) {
        var li = document.createElement("li");
        li.textContent = message;
        errors.appendChild(li);
      });
      return;
    }
    countLine.textContent = countLine.dataset.template.replace("{n}", data.count);
    panel.querySelector("table").hidden = !data.sample.length;
    data.sample.forEach(function (lead) {
      var tr = document.createElement("tr");
      tr.appendChild(cell(lead.email, lead.url));
      tr.appendChild(cell(lead.name));
      tr.appendChild(cell(lead.company));
      rows.appendChild(tr);
    });
  }

  function refresh() {
    var asked = ++latest;
    fetch(form.dataset.preview, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify({ rules: rules.value })
    }).then(function (response) {
      return response.json();
    }).then(function (data) {
      if (asked === latest) { show(data); }  // an older answer never overwrites a newer one
    }).catch(function () { /* the next edit asks again */ });
  }

  rules.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
  refresh();
})();
