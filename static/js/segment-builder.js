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

  // The rules' problems go beside the field, where the saved form puts them too (the
  // shared field partial): one place to look, each problem on its own line.
  function showProblems(messages) {
    var box = rules.closest(".field");
    var old = document.getElementById(rules.id + "-error");
    if (old) { old.remove(); }
    var described = (rules.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== rules.id + "-error";
    });
    box.classList.toggle("has-error", messages.length > 0);
    rules.setAttribute("aria-invalid", messages.length ? "true" : "false");
    if (messages.length) {
      var list = document.createElement("ul");
      list.className = "error";
      list.id = rules.id + "-error";
      messages.forEach(function (message) {
        var li = document.createElement("li");
        li.textContent = message;
        list.appendChild(li);
      });
      box.appendChild(list);
      described.push(list.id);
    }
    if (described.length) {
      rules.setAttribute("aria-describedby", described.join(" "));
    } else {
      rules.removeAttribute("aria-describedby");
    }
  }

  function show(data) {
    rows.textContent = "";
    showProblems(data.errors || []);
    panel.hidden = Boolean(data.errors);
    if (data.errors) { return; }
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
