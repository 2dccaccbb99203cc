// The sandbox's 3-D Secure page: "Complete" or "Fail" is the bank's answer, sent to the
// sandbox (as a bank's goes to Stripe); then back to the payment, which shows the outcome.

export function mount(actions) {
  const error = document.getElementById("challenge-error");
  for (const button of actions.querySelectorAll("button[data-success]")) {
    button.addEventListener("click", async () => {
      const buttons = actions.querySelectorAll("button");
      buttons.forEach((b) => { b.disabled = true; });
      button.classList.add("busy");
      error.hidden = true;
      try {
        const response = await fetch(actions.dataset.authenticateUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ success: button.dataset.success === "true" }),
        });
        if (response.ok || response.status === 409) {
          window.location.assign(actions.dataset.returnUrl);
          return;
        }
      } catch (_) {
        // Shown below.
      }
      error.hidden = false;
      button.classList.remove("busy");
      buttons.forEach((b) => { b.disabled = false; });
    });
  }
}
