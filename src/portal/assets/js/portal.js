// billstream portal: the one script every page loads. It loads the module each element marked
// `data-module` asks for, and shows a spinner on a form being sent, its button disabled so the
// form is sent once.

const MODULES = {
  card: "./card.js",
  "payment-status": "./payment-status.js",
  challenge: "./challenge.js",
  "stripe-action": "./stripe-action.js",
  "invoice-form": "./invoice-form.js",
  "job-progress": "./job-progress.js",
};

/** Marks `form` as being sent (or not): its submit button disabled, with a spinner. */
export function setBusy(form, busy) {
  const button = form.querySelector("button[type=submit], button:not([type])");
  if (!button) return;
  button.disabled = busy;
  button.setAttribute("aria-busy", String(busy));
  button.classList.toggle("busy", busy);
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
  // After the browser has read the form (a disabled button would not be sent).
  setTimeout(() => setBusy(form, true), 0);
});

// A page restored by the back button gets its buttons back.
window.addEventListener("pageshow", () => {
  document.querySelectorAll("form").forEach((form) => setBusy(form, false));
});

for (const element of document.querySelectorAll("[data-module]")) {
  const path = MODULES[element.dataset.module];
  if (path) {
    import(path).then((module) => module.mount(element));
  }
}
