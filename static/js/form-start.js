/* A lead form's start time (the minimum fill time counts from it), fetched from
   GET /forms/start when the visitor first focuses the form, so the page itself is the same
   for every visitor and a cache may serve it. Without JavaScript the time stays empty and
   the submission is held for the person to confirm: nobody is kept out. A form shown again
   with errors keeps the time it was sent with. */
for (const form of document.querySelectorAll("form.lead-form[data-start]")) {
  const started = form.elements.namedItem("started");
  if (started && !started.value) {
    form.addEventListener(
      "focusin",
      async () => {
        const response = await fetch(form.dataset.start, { headers: { Accept: "application/json" } });
        if (response.ok) {
          started.value = (await response.json()).started;
        }
      },
      { once: true },
    );
  }
}
