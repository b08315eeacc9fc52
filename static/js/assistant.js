/* The floating assistant panel: keeps the conversation inside the panel. Every form in
   it is an ordinary form (it works without this script): the question a GET, the answers
   POSTs; here each is sent with fetch and the server's fragment (X-Assistant-Panel: 1)
   replaces the panel's content. */
(function () {
  "use strict";
  var body = document.querySelector("[data-assistant-panel]");
  if (!body || !window.fetch || !window.FormData) return;

  function show(html) {
    body.innerHTML = html;
    var focus = body.querySelector("[role=alert], #done, #contact h2, .assistant-feedback legend, textarea");
    if (focus) {
      if (!focus.hasAttribute("tabindex") && !/TEXTAREA|INPUT/.test(focus.tagName)) focus.setAttribute("tabindex", "-1");
      focus.focus();
    }
  }

  body.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.action || form.dataset.plain) return;
    event.preventDefault();
    var data = new FormData(form);
    var submitter = event.submitter;
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    var get = form.method.toLowerCase() === "get";
    var url = get ? form.action + "?" + new URLSearchParams(data).toString() : form.action;
    fetch(url, {
      method: get ? "GET" : "POST",
      body: get ? undefined : data,
      credentials: "same-origin",
      headers: { "X-Assistant-Panel": "1" }
    }).then(function (response) {
      if (response.status === 429 || response.status >= 500) throw new Error(String(response.status));
      return response.text();
    }).then(show).catch(function () {
      // The plain form flow instead, with its own page (a rate limit, an error).
      buttons.forEach(function (b) { b.disabled = false; });
      form.dataset.plain = "1";
      if (form.requestSubmit) form.requestSubmit(submitter || undefined); else form.submit();
    });
  });
  // Escape closes the open panel and gives the focus back to its button, as a dialog does.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector(".assistant-panel details[open]");
    if (!open) return;
    open.open = false;
    open.querySelector("summary").focus();
  });
})();
