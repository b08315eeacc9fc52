/* The "发送验证码" button of a lead form that asks for an SMS code: it proves the browser
   does the form's proof-of-work (the ALTCHA widget solves a fresh challenge), then asks
   POST /forms/sms-code for a code to the number typed, and counts down before another.
   The widget is reset afterwards, so the form itself is sent with a solution of its own. */
for (const button of document.querySelectorAll(".sms-code-send")) {
  const form = button.closest("form");
  const status = form.querySelector(".sms-code-status");
  const label = button.textContent;
  let sending = false;

  const countdown = (seconds) => {
    button.disabled = true;
    const tick = () => {
      if (seconds <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.textContent = button.dataset.wait.replace("{s}", String(seconds));
      seconds -= 1;
      setTimeout(tick, 1000);
    };
    tick();
  };

  const proof = async () => {
    const widget = form.querySelector("altcha-widget");
    if (!widget || typeof widget.verify !== "function") {
      return "";
    }
    await widget.verify();
    const field = form.querySelector('input[name="altcha"]');
    const payload = field ? field.value : "";
    widget.reset();
    return payload;
  };

  button.addEventListener("click", async () => {
    if (sending || button.disabled) {
      return; // a fast second click sends nothing more
    }
    sending = true;
    button.disabled = true;
    status.textContent = "";
    try {
      const body = new URLSearchParams();
      body.set("phone", form.querySelector('[name="phone"]').value);
      body.set("altcha", await proof());
      const token = form.querySelector('input[name="csrf_token"]');
      if (token) {
        body.set("csrf_token", token.value);
      }
      const response = await fetch(button.dataset.url, { method: "POST", body, credentials: "same-origin" });
      const answer = await response.json();
      if (answer.ok) {
        status.textContent = button.dataset.sent;
        countdown(answer.resend_after || 60);
        form.querySelector('[name="sms_code"]').focus();
      } else {
        status.textContent = answer.error || button.dataset.failed;
        if (answer.retry_after && answer.retry_after <= 300) {
          countdown(answer.retry_after);
        } else {
          button.disabled = false;
        }
      }
    } catch {
      status.textContent = button.dataset.failed;
      button.disabled = false;
    } finally {
      sending = false;
    }
  });
}
