// Keeps a payment's status up to date without a reload while its outcome is awaited (3-D
// Secure, processing, or a confirmation Stripe reports later by webhook).

const EVERY_MS = 1500;
const GIVE_UP_AFTER_MS = 15 * 60 * 1000;

export function mount(box) {
  if (box.dataset.settled === "true") return;
  const started = Date.now();
  const label = box.querySelector("[data-status-label]");
  const message = box.querySelector("[data-status-message]");
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const status = await response.json();
        label.textContent = status.label;
        message.textContent = status.message;
        box.hidden = !status.message;
        if (status.settled) {
          box.dataset.settled = "true";
          box.classList.toggle("ok", status.succeeded);
          box.classList.toggle("bad", !status.succeeded);
          box.querySelector("[data-status-spinner]")?.remove();
          for (const el of document.querySelectorAll("[data-settled-only]")) el.hidden = !status.succeeded;
          for (const el of document.querySelectorAll("[data-payable-only]")) el.hidden = !status.payable;
          if (status.payable && !document.querySelector("[data-payable-only]")) window.location.reload();
          return;
        }
      }
    } catch (_) {
      // Offline for a moment: try again at the next tick.
    }
    if (Date.now() - started < GIVE_UP_AFTER_MS) setTimeout(poll, EVERY_MS);
  };
  setTimeout(poll, EVERY_MS);
}
