/* Inside an embedded form's frame (gated/embed.html): the page is the same bytes for
   every visitor, so what belongs to this visit comes from the frame's URL fragment,
   written by embed.js and never sent to the server (or, for a plain iframe, from the
   frame's referrer): the host page and its own referrer go with the submission (the
   server reads the utm tags from the page's URL: gated.embedding.host_touch), the host's
   CSS variables style the form, and the frame tells the host its height whenever it
   changes (the form's errors, the thank-you). */
const VARIABLES = ["--lodestar-accent", "--lodestar-text", "--lodestar-background", "--lodestar-font", "--lodestar-radius"];
// A colour, a length or a font list; never url(), a semicolon or a brace.
const SAFE_VALUE = /^[#\w\s.,%()'"+-]{1,120}$/;

const context = new URLSearchParams(location.hash.slice(1));
const page = context.get("page") || document.referrer || "";
let host = context.get("host") || "";
if (!host && page) {
  try {
    host = new URL(page).origin;
  } catch {
    host = "";
  }
}

function setField(form, name, value) {
  let input = form.elements.namedItem(name);
  if (!input) {
    input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    form.append(input);
  }
  if (value && !input.value) {
    input.value = value.slice(0, 500);
  }
}

for (const form of document.querySelectorAll("form.lead-form")) {
  // Sent to the frame's own URL with the fragment, so the thank-you page keeps it too.
  form.action = location.pathname + location.search + location.hash;
  setField(form, "embed_host", host);
  setField(form, "landing_page", page);
  setField(form, "referrer", context.get("ref") || "");
}

try {
  const style = JSON.parse(context.get("style") || "{}");
  for (const name of VARIABLES) {
    const value = style[name];
    if (typeof value === "string" && SAFE_VALUE.test(value) && !/url\s*\(/i.test(value)) {
      document.documentElement.style.setProperty(name, value);
    }
  }
} catch {
  // a fragment that is not ours: the default look
}

// The content's height, not the document's: that is never less than the frame's own
// height, so a frame could grow and never shrink. Only to the host's origin (the browser
// drops the message if the parent is another: frame-ancestors lets only allowed origins
// frame this page); with no host known, nobody listens (a plain iframe has a fixed height).
if (host && window.parent !== window) {
  const tell = () => {
    window.parent.postMessage({ lodestarHeight: Math.ceil(document.body.getBoundingClientRect().height) }, host);
  };
  new ResizeObserver(tell).observe(document.body);
}
