/* The Markdown editor over the article body (EasyMDE, vendored in static/vendor/easymde):
   a toolbar, Ctrl/⌘+S to save, Ctrl/⌘+B/I/K, Tab and Shift+Tab that move the focus as in
   any other field (Ctrl/⌘+] and [ indent), a table that keeps its column alignment,
   images pasted or dropped are uploaded through the editor's upload endpoint (the same
   checks as the upload form), and a side-by-side preview that scrolls with the text.
   The preview HTML comes from the server (content-editor.js keeps #preview-body current),
   so it is exactly what a save renders. Without JavaScript the textarea stays. */
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  var body = form && form.querySelector("textarea[name=body]");
  if (!body || typeof window.EasyMDE !== "function") { return; }
  var EasyMDE = window.EasyMDE;
  var labels = JSON.parse(body.dataset.labels || "{}");
  var token = form.querySelector("input[name=csrf_token]");
  var result = document.getElementById("upload-result");
  var readOnly = form.dataset.readOnly === "1";

  function svg(paths) {
    return '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" ' +
      'stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">' + paths + "</svg>";
  }
  var ICONS = {
    bold: svg('<path d="M6 4h7a4 4 0 0 1 0 8H6zM6 12h8a4 4 0 0 1 0 8H6z"/>'),
    italic: svg('<path d="M19 4h-9M14 20H5M15 4L9 20"/>'),
    heading: svg('<path d="M6 4v16M18 4v16M6 12h12"/>'),
    quote: svg('<path d="M3 21c3 0 7-1 7-8V5H3v7h4M14 21c3 0 7-1 7-8V5h-7v7h4"/>'),
    bullets: svg('<path d="M9 6h12M9 12h12M9 18h12M4 6h.01M4 12h.01M4 18h.01"/>'),
    numbers: svg('<path d="M10 6h11M10 12h11M10 18h11M4 4v4M3 8h2M3 14h2l-2 3h2"/>'),
    link: svg('<path d="M10 13a5 5 0 0 0 7 0l3-3a5 5 0 0 0-7-7l-1 1"/><path d="M14 11a5 5 0 0 0-7 0l-3 3a5 5 0 0 0 7 7l1-1"/>'),
    image: svg('<rect x="3" y="3" width="18" height="18" rx="2"/><circle cx="8.5" cy="8.5" r="1.5"/><path d="M21 15l-5-5L5 21"/>'),
    table: svg('<rect x="3" y="3" width="18" height="18" rx="2"/><path d="M3 9h18M3 15h18M9 3v18M15 3v18"/>'),
    code: svg('<path d="M16 18l6-6-6-6M8 6l-6 6 6 6"/>'),
    preview: svg('<path d="M1 12s4-8 11-8 11 8 11 8-4 8-11 8-11-8-11-8z"/><circle cx="12" cy="12" r="3"/>'),
    side: svg('<rect x="3" y="3" width="18" height="18" rx="2"/><path d="M12 3v18"/>'),
    save: svg('<path d="M19 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h11l5 5v11a2 2 0 0 1-2 2z"/><path d="M17 21v-8H7v8M7 3v5h8"/>')
  };

  function save() {
    var button = form.querySelector("button[name=action][value=save]");
    if (!button) { return; }
    editor.codemirror.save();
    form.requestSubmit(button);
  }

  function insertTable(mde) {
    // Three columns, the last right-aligned (numbers), as a reminder that `---:` works.
    var cm = mde.codemirror;
    var head = "| " + labels.column + " 1 | " + labels.column + " 2 | " + labels.column + " 3 |";
    var rows = "\n| --- | :---: | ---: |\n| " + labels.text + " | " + labels.text + " | 0 |\n\n";
    var at = cm.getCursor();
    var before = at.ch > 0 || (at.line > 0 && cm.getLine(at.line - 1) !== "") ? "\n\n" : "";
    cm.replaceSelection(before + head + rows);
    cm.focus();
  }

  function upload(file, onSuccess, onError) {
    var data = new FormData();
    data.append("file", file, file.name || "image.png");
    if (token) { data.append("csrf_token", token.value); }
    if (result) { result.textContent = labels.uploading; }
    fetch(body.dataset.uploadUrl, {
      method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 413) { throw new Error(labels.too_large); }
      if (!response.ok) { throw new Error(labels.failed); }
      return response.json();
    }).then(function (json) {
      if (result) { result.textContent = labels.uploaded + " " + json.markdown; }
      onSuccess(json.url);
    }).catch(function (error) { onError(error.message); });
  }

  function button(name, action, label) {
    return { name: name, action: action, className: "mde-" + name, title: label, icon: ICONS[name] };
  }

  var editor = new EasyMDE({
    element: body,
    autoDownloadFontAwesome: false,
    spellChecker: false,
    nativeSpellcheck: false,
    status: false,
    forceSync: true,
    autofocus: false,
    minHeight: "24rem",
    // A fixed height, so the text scrolls inside the editor and the preview can follow it.
    maxHeight: "520px",  // in px: EasyMDE sizes the side preview from this number
    sideBySideFullscreen: false,
    syncSideBySidePreviewScroll: true,
    previewClass: ["editor-preview", "prose"],
    uploadImage: true,
    imageAccept: "image/png, image/jpeg, image/gif, image/webp",
    imageMaxSize: Number(body.dataset.maxBytes) || 10485760,
    imageUploadFunction: upload,
    errorCallback: function (message) { if (result) { result.textContent = message; } },
    errorMessages: {
      noFileGiven: labels.failed, typeNotAllowed: labels.not_image,
      fileTooLarge: labels.too_large, importError: labels.failed
    },
    shortcuts: { toggleBold: "Cmd-B", toggleItalic: "Cmd-I", drawLink: "Cmd-K", drawTable: null,
      togglePreview: null, toggleSideBySide: null, toggleFullScreen: null },
    // The server renders (content-editor.js fills #preview-body); EasyMDE shows a copy.
    previewRender: function () { return document.getElementById("preview-body").innerHTML; },
    toolbar: [
      button("bold", EasyMDE.toggleBold, labels.bold),
      button("italic", EasyMDE.toggleItalic, labels.italic),
      button("heading", EasyMDE.toggleHeadingSmaller, labels.heading),
      "|",
      button("quote", EasyMDE.toggleBlockquote, labels.quote),
      button("bullets", EasyMDE.toggleUnorderedList, labels.bullets),
      button("numbers", EasyMDE.toggleOrderedList, labels.numbers),
      "|",
      button("link", EasyMDE.drawLink, labels.link),
      // EasyMDE adds the file input its upload opens only for a button named "upload-image".
      { name: "upload-image", action: EasyMDE.drawUploadedImage, className: "mde-image", title: labels.image, icon: ICONS.image },
      button("table", insertTable, labels.table),
      button("code", EasyMDE.toggleCodeBlock, labels.code),
      "|",
      { name: "preview", action: EasyMDE.togglePreview, className: "mde-preview no-disable", title: labels.preview, icon: ICONS.preview, noDisable: true },
      { name: "side-by-side", action: EasyMDE.toggleSideBySide, className: "mde-side no-disable no-mobile", title: labels.side, icon: ICONS.side, noDisable: true, noMobile: true },
      "|",
      { name: "save", action: save, className: "mde-save no-disable", title: labels.save, icon: ICONS.save, noDisable: true }
    ].filter(function (item) {
      // Read only (an article the user may not change): no tools that edit or save.
      return !readOnly || (item !== "|" && (item.name === "preview" || item.name === "side-by-side"));
    })
  });
  if (readOnly) { editor.codemirror.setOption("readOnly", true); }
  // No keyboard trap: EasyMDE binds Tab and Shift+Tab to indent, so a keyboard user could
  // never leave the body. `false` hands the keys back to the browser (CodeMirror's key
  // maps), which moves the focus on and back; indenting stays on CodeMirror's own
  // Ctrl+] and Ctrl+[ (⌘] and ⌘[), as the hint under the editor says.
  var keys = Object.assign({}, editor.codemirror.getOption("extraKeys"));
  keys.Tab = false;
  keys["Shift-Tab"] = false;
  editor.codemirror.setOption("extraKeys", keys);
  body.lodestarEditor = editor;
  // EasyMDE appends its own shortcut names ("(Ctrl-B)") to each title; the labels say the
  // shortcut already, in the page's language.
  editor.options.toolbar.forEach(function (item) {
    var element = item && item.name && editor.toolbarElements[item.name];
    if (element && item.title) { element.title = item.title; }
  });
  // CodeMirror types into a textarea of its own: give it the body's label.
  var label = form.querySelector("label[for=" + body.id + "]");
  if (label) { editor.codemirror.getInputField().setAttribute("aria-label", label.textContent.trim()); }
  var help = document.getElementById(body.id + "-keys");
  if (help) { editor.codemirror.getInputField().setAttribute("aria-describedby", help.id); }
  form.classList.add("has-markdown-editor");
  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

  editor.codemirror.on("change", function () {
    // Autosave and the server preview listen for the textarea's input (content-editor.js).
    editor.codemirror.save();
    body.dispatchEvent(new Event("input", { bubbles: true }));
  });
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "s" || event.key === "S")) {
      if (!form.contains(document.activeElement) && document.activeElement !== document.body) { return; }
      event.preventDefault();
      save();
    }
  });
  if (window.matchMedia("(min-width: 1100px)").matches) {
    EasyMDE.toggleSideBySide(editor);
  }
}());
