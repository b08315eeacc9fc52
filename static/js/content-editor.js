/* The article editor: live preview (debounced POST of the Markdown to the server, which
   renders it with the same pipeline as a save), autosave of unsaved work in localStorage
   (offered back after a reload, cleared once the server has the article), and uploads
   that insert their Markdown at the cursor. The page works without this file. */
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  if (!form) { return; }
  var body = form.querySelector("textarea[name=body]");
  var preview = document.getElementById("preview-body");
  var key = form.dataset.autosaveKey;
  var token = form.querySelector("input[name=csrf_token]");
  var timer = null;
  var saveTimer = null;

  document.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });

  // The page's other forms (the review checklist, the owner, a verification) reload it:
  // changes typed and not saved (or sent back unsaved, data-unsaved) would be gone, so
  // the editor is asked first.
  function typed() { return new URLSearchParams(new FormData(form)).toString(); }
  var asLoaded = typed();
  function unsaved() { return form.dataset.unsaved === "1" || typed() !== asLoaded; }
  document.querySelectorAll("form").forEach(function (other) {
    if (other === form || other.id === "upload-form") { return; }
    other.addEventListener("submit", function (event) {
      if (unsaved() && !window.confirm(form.dataset.unsavedMessage)) { event.preventDefault(); }
    });
  });

  // A new article's reviewer's checklist shows the items of the kind chosen; the others
  // are hidden and not sent (as the server renders it for the kind it was sent).
  var kind = form.elements.namedItem("kind");
  var checklist = form.querySelector(".checklist-items");
  function showChecklist() {
    if (!kind || !checklist) { return; }
    var any = false;
    checklist.querySelectorAll("li[data-kinds]").forEach(function (item) {
      var mine = item.dataset.kinds.split(" ").indexOf(kind.value) !== -1;
      item.hidden = !mine;
      item.querySelector("input").disabled = !mine;
      any = any || mine;
    });
    checklist.hidden = !any;
  }
  if (kind) { kind.addEventListener("change", showChecklist); }

  function refreshPreview() {
    var data = new FormData();
    data.append("body", body.value);
    if (token) { data.append("csrf_token", token.value); }
    fetch(form.dataset.previewUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token ? token.value : "" }
    }).then(function (response) {
      // 422: the body is past the Markdown bounds; the answer says why.
      return response.ok || response.status === 422 ? response.json() : null;
    }).then(function (json) {
      if (json && json.error) {
        var message = document.createElement("p");
        message.className = "error";
        message.textContent = json.error;
        preview.replaceChildren(message);
      } else if (json) {
        preview.innerHTML = json.html;
        // The Markdown editor's side-by-side pane shows the same (markdown-editor.js).
        document.querySelectorAll(".editor-preview-side").forEach(function (side) {
          side.innerHTML = json.html;
        });
      }
    }).catch(function () { /* keep the last preview when offline */ });
  }

  function fields() {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.type === "hidden" || el.type === "submit") { return; }
      // The checklist is the reviewer's word at the moment, not work to bring back.
      if (el.closest(".checklist-items")) { return; }
      values[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    return values;
  }

  function autosave() {
    try {
      localStorage.setItem(key, JSON.stringify({ at: new Date().toISOString(), fields: fields() }));
    } catch (e) { /* storage full or disabled: nothing to do */ }
  }

  function restore(saved) {
    Object.keys(saved.fields).forEach(function (name) {
      var el = form.elements.namedItem(name);
      if (!el || el.type === "file") { return; }
      if (el.type === "checkbox") { el.checked = saved.fields[name]; } else { el.value = saved.fields[name]; }
      if (el.lodestarEditor) { el.lodestarEditor.value(saved.fields[name]); }
    });
    showChecklist();
    refreshPreview();
  }

  var stored = null;
  try { stored = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { stored = null; }
  var savedAt = form.dataset.savedAt ? new Date(form.dataset.savedAt + "Z") : null;
  if (stored && savedAt && new Date(stored.at) <= savedAt) {
    // The server has a newer save than the local copy: it was saved, forget the copy.
    localStorage.removeItem(key);
    stored = null;
  }
  var offer = document.getElementById("autosave-offer");
  if (stored && offer && JSON.stringify(stored.fields) !== JSON.stringify(fields())) {
    offer.hidden = false;
    document.getElementById("autosave-restore").addEventListener("click", function () {
      restore(stored); offer.hidden = true;
    });
    document.getElementById("autosave-discard").addEventListener("click", function () {
      localStorage.removeItem(key); offer.hidden = true;
    });
  }

  form.addEventListener("input", function (event) {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(autosave, 500);
    if (event.target === body) {
      clearTimeout(timer);
      timer = setTimeout(refreshPreview, 400);
    }
  });
  form.addEventListener("submit", function (event) {
    var action = event.submitter ? event.submitter.value : "save";
    if (action !== "preview") {
      clearTimeout(saveTimer);  // a pending autosave would write the copy back
      // A new article's copy moves to its own key after the redirect; drop it now.
      if (key.slice(-4) === "-new") { localStorage.removeItem(key); }
    }
  });

  var upload = document.getElementById("upload-form");
  if (upload) {
    upload.addEventListener("submit", function (event) {
      event.preventDefault();
      var result = document.getElementById("upload-result");
      fetch(upload.action, {
        method: "POST", body: new FormData(upload), credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (response.status === 413) { throw new Error(result.dataset.tooLarge || "413"); }
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      }).then(function (json) {
        if (body.lodestarEditor) {
          body.lodestarEditor.codemirror.replaceSelection(json.markdown);
        } else {
          var at = body.selectionStart || body.value.length;
          body.value = body.value.slice(0, at) + json.markdown + body.value.slice(at);
        }
        result.textContent = json.markdown;
        refreshPreview();
        autosave();
      }).catch(function (error) { result.textContent = error.message; });
    });
  }

  var copy = document.getElementById("copy-preview-link");
  if (copy) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var link = document.getElementById("preview-link");
      link.select();
      (navigator.clipboard ? navigator.clipboard.writeText(link.value) : Promise.reject()).then(function () {
        copy.textContent = copy.dataset.copied;
      }).catch(function () { /* the link stays selected for Ctrl+C */ });
    });
  }
}());
