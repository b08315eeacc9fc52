/* Lodestar's embeddable lead form: one line on any allowed site,
     <script src="https://SITE/embed.js" data-lodestar-form="library/SLUG" async></script>
   mounts the form where the script stands (data-lodestar-form: library/<slug>,
   demo-request or newsletter). The form runs in a frame from SITE, so every check of
   the site's own form holds (proof of work, consent, attribution, the download link);
   the frame follows the host's CSS variables (--lodestar-accent, --lodestar-text,
   --lodestar-background, --lodestar-font, --lodestar-radius) and its content's
   height (the frame posts it; only that frame, from the form's site, is listened to).
   Whether this site may show the form is the server's answer (CORS): on any other site
   nothing is shown and the console says why. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !window.URLSearchParams) {
    return;
  }
  var base = new URL(script.src, location.href).origin;
  var VARIABLES = ["--lodestar-accent", "--lodestar-text", "--lodestar-background", "--lodestar-font", "--lodestar-radius"];

  function variables(element) {
    var style = getComputedStyle(element);
    var found = {};
    VARIABLES.forEach(function (name) {
      var value = style.getPropertyValue(name).trim();
      if (value) {
        found[name] = value;
      }
    });
    return found;
  }

  function refuse(form) {
    console.error(
      "Lodestar: the form \"" + form + "\" from " + base + " is not shown on " + location.origin + ". " +
      "Either this site is not among the sites allowed to embed it (add " + location.origin +
      " to the form in Lodestar's admin, Leads → Embedded forms, or to LODESTAR_EMBED_ORIGINS), " +
      "or no such form is published. Nothing is sent or stored from this page."
    );
  }

  function mount(tag) {
    if (tag.getAttribute("data-lodestar-mounted")) {
      return;
    }
    tag.setAttribute("data-lodestar-mounted", "1");
    var form = (tag.getAttribute("data-lodestar-form") || "").replace(/^\/+/, "");
    fetch(base + "/embed/about/" + form, { mode: "cors", credentials: "omit" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (about) {
        var frame = document.createElement("iframe");
        var context = new URLSearchParams({
          host: location.origin,
          page: location.href,
          ref: document.referrer,
          style: JSON.stringify(variables(tag.parentElement || document.documentElement)),
        });
        frame.src = about.frame + "#" + context.toString();
        frame.title = tag.getAttribute("data-lodestar-title") || about.title || "Form";
        frame.className = "lodestar-form";
        frame.style.width = "100%";
        frame.style.border = "0";
        frame.style.display = "block";
        frame.style.height = "560px";
        window.addEventListener("message", function (event) {
          // Only the frame's own page, from the form's site, may size it.
          var height = event.data && event.data.lodestarHeight;
          if (event.source === frame.contentWindow && event.origin === base && typeof height === "number" && height > 0) {
            frame.style.height = Math.ceil(height) + "px";
          }
        });
        tag.parentNode.insertBefore(frame, tag);
      })
      .catch(function () {
        refuse(form);
      });
  }

  var tags = document.querySelectorAll("script[data-lodestar-form]");
  for (var i = 0; i < tags.length; i++) {
    if (tags[i].src && new URL(tags[i].src, location.href).origin === base) {
      mount(tags[i]);
    }
  }
})();
