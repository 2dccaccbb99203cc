// Stripe mode: a payment waiting for 3-D Secure when its page is opened again; Stripe.js
// shows the bank's challenge, then the page shows the outcome.

export async function mount(element) {
  if (typeof window.Stripe !== "function" || !element.dataset.publishableKey) return;
  const stripe = window.Stripe(element.dataset.publishableKey);
  await stripe.handleNextAction({ clientSecret: element.dataset.clientSecret });
  window.location.reload();
}
