/* Search as you type: every element with data-search-typeahead (data-kind="help" limits the
   kind) gets a debounced listbox of results from /api/search. ARIA 1.2 combobox pattern:
   arrow keys move, Enter opens, Escape closes; results announced in a live region. */
(function () {
  "use strict";
  var DELAY = 200;

  var zh = /^zh/i.test(document.documentElement.lang || "zh");
  var TEXT = zh
    ? { label: "搜索帮助中心", placeholder: "描述您的问题，例如：如何配置单点登录", button: "搜索", list: "推荐文章", none: "没有匹配的文章", some: "找到 {n} 篇文章，用方向键选择" }
    : { label: "Search the help center", placeholder: "Describe your problem, e.g. set up single sign-on", button: "Search", list: "Suggested articles", none: "No matching article", some: "{n} articles found, use the arrow keys to choose" };
  var counter = 0;

  // A bare hook (<div data-search-typeahead data-kind="help">) gets the form built here;
  // the partial content/search/_typeahead.html renders it on the server instead.
  function build(root) {
    var id = "typeahead-" + (++counter);
    var kind = root.getAttribute("data-kind") || "";
    root.classList.add("typeahead");
    root.innerHTML =
      '<form role="search" action="/search" method="get">' +
      '<label class="visually-hidden" for="' + id + '-q"></label>' +
      '<input id="' + id + '-q" type="text" inputmode="search" enterkeyhint="search" name="q" autocomplete="off" maxlength="200" role="combobox" aria-expanded="false" aria-autocomplete="list" aria-controls="' + id + '-list">' +
      (kind ? '<input type="hidden" name="kind">' : "") +
      '<button type="submit" class="primary"></button></form>' +
      '<ul id="' + id + '-list" class="typeahead-list" role="listbox" hidden></ul>' +
      '<p class="visually-hidden" role="status" aria-live="polite" data-typeahead-status></p>';
    root.querySelector("label").textContent = TEXT.label;
    root.querySelector("input[role=combobox]").placeholder = TEXT.placeholder;
    if (kind) { root.querySelector("input[type=hidden]").value = kind; }
    root.querySelector("button").textContent = TEXT.button;
    root.querySelector("[role=listbox]").setAttribute("aria-label", TEXT.list);
    var status = root.querySelector("[data-typeahead-status]");
    status.setAttribute("data-none", TEXT.none); status.setAttribute("data-some", TEXT.some);
  }

  function setup(root) {
    if (!root.querySelector("input[role=combobox]")) { build(root); }
    var input = root.querySelector("input[role=combobox]");
    var list = root.querySelector("[role=listbox]");
    var status = root.querySelector("[data-typeahead-status]");
    var api = root.getAttribute("data-api") || "/api/search";
    var clickApi = root.getAttribute("data-click-api") || "/api/search/click";
    var kind = root.getAttribute("data-kind") || "";
    var timer = null, active = -1, items = [], controller = null, lastQuery = "";

    function close() {
      list.hidden = true; input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant"); active = -1;
    }
    function select(index) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (option, i) { option.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (options[index]) { input.setAttribute("aria-activedescendant", options[index].id); options[index].scrollIntoView({ block: "nearest" }); }
    }
    function open(index) {
      var item = items[index];
      if (!item) { return; }
      if (item.click) {
        var body = JSON.stringify({ token: item.click });
        if (navigator.sendBeacon) { navigator.sendBeacon(clickApi, new Blob([body], { type: "application/json" })); }
      }
      window.location.href = item.url;
    }
    function render(data) {
      list.textContent = ""; items = data.results || [];
      items.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i; li.setAttribute("role", "option"); li.setAttribute("aria-selected", "false");
        var title = document.createElement("span"); title.className = "ta-title"; title.textContent = item.title;
        var snippet = document.createElement("span"); snippet.className = "ta-snippet";
        // The snippet is HTML escaped by the server, with only <mark> added.
        snippet.innerHTML = item.snippet;
        li.appendChild(title); li.appendChild(snippet);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); open(i); });
        list.appendChild(li);
      });
      var template = items.length ? status.getAttribute("data-some") : status.getAttribute("data-none");
      status.textContent = template.replace("{n}", String(items.length));
      if (items.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); active = -1; } else { close(); }
    }
    function fetchResults() {
      var q = input.value.trim();
      if (q === lastQuery) { return; }
      lastQuery = q;
      if (!q) { close(); list.textContent = ""; return; }
      if (controller) { controller.abort(); }
      controller = new AbortController();
      // Suggestions in the page's own language (the API falls back to the visitor's).
      var url = api + "?typeahead=1&limit=6&q=" + encodeURIComponent(q) + (kind ? "&kind=" + encodeURIComponent(kind) : "") +
        (document.documentElement.lang ? "&locale=" + encodeURIComponent(document.documentElement.lang) : "");
      fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) { if (input.value.trim() === q) { render(data); } })
        .catch(function () { /* aborted or offline: the form still submits to /search */ });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(fetchResults, DELAY); });
    input.addEventListener("keydown", function (event) {
      if (list.hidden && event.key !== "ArrowDown") { return; }
      if (event.key === "ArrowDown") { event.preventDefault(); if (list.hidden && items.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); } select(Math.min(active + 1, items.length - 1)); }
      else if (event.key === "ArrowUp") { event.preventDefault(); select(Math.max(active - 1, 0)); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); open(active); }
      else if (event.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function init() { document.querySelectorAll("[data-search-typeahead]").forEach(setup); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
