/* A lead form's per-visitor parts, kept off its page so the page is the same bytes for
   every visitor and a cache may serve it:
   - where the visitor came from: document.referrer goes into the hidden referrer field when
     the form is sent (the server reads the utm parameters and the landing page from the URL
     the form is sent to, which is the page's own);
   - progressive profiling: the lead cookie is readable by the server alone, so the form asks
     GET /forms/known, and a known visitor is greeted and asked only what is still unknown.
   Without JavaScript the form is whole and works the same. */
function leaveOut(form, name) {
  const input = form.querySelector(`[name="${name}"]`);
  const field = input && input.closest(".field");
  if (field) {
    field.remove();
  }
}

function personalise(form, known) {
  const ask = new Set(known.ask);
  for (const name of known.fields) {
    if (!ask.has(name)) {
      leaveOut(form, name);
      if (name === "phone") {
        form.querySelector(".sms-code")?.remove();
      }
    }
  }
  if (!ask.has("email") && !ask.has("phone")) {
    form.querySelector(".identity-note")?.remove();
    // "Leave your mobile number or work email…" no longer asks for anything on the page.
    form.parentElement?.querySelector(".form-intro")?.remove();
  }
  if (!known.consent) {
    leaveOut(form, "consent");
  }
  const greeting = document.createElement("p");
  greeting.className = "lead-known";
  greeting.append(`${known.greeting} `);
  const forget = document.createElement("a");
  forget.href = "?forget=1";
  forget.textContent = known.forget;
  greeting.append(forget);
  if (known.submit) {
    const button = form.querySelector("button[type=submit]");
    if (button) {
      button.textContent = known.submit;
    }
  }
  const first = form.querySelector(":scope > .field, :scope > .identity-note, :scope > .hp-field");
  form.insertBefore(greeting, first);
}

for (const form of document.querySelectorAll("form.lead-form")) {
  form.addEventListener("submit", () => {
    const referrer = form.elements.namedItem("referrer");
    if (referrer && !referrer.value) {
      referrer.value = document.referrer;
    }
  });
  // Shown again with errors: the page opens at the top, the form may be a screen below
  // on a phone. Go to the first field to correct (its message is read with it).
  const invalid = form.querySelector('[aria-invalid="true"]');
  if (invalid) {
    invalid.focus({ preventScroll: true });
    invalid.scrollIntoView({ block: "center" });
  }
  // A form shown again with errors, or greeted by the server, is already this visitor's.
  if (form.dataset.known && !form.querySelector(".lead-known, .has-error")) {
    // The greeting in the page's language (a white paper's, whatever the visitor's).
    const url = new URL(form.dataset.known, location.href);
    url.searchParams.set("lang", document.documentElement.lang);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .then((known) => {
        if (known && known.known) {
          personalise(form, known);
        }
      })
      .catch(() => {});
  }
}
