// The card form. Sandbox mode: billstream's own fields; the card goes to the sandbox (standing
// in for Stripe's API) and comes back as a payment-method id. Stripe mode: Stripe Elements;
// the intent is confirmed with its client secret, or a PaymentMethod is created. Either way
// only the id is sent to billstream, in the form's hidden `payment_method` field.

import { setBusy } from "./portal.js";

/** True when the digits pass the Luhn check. */
function luhn(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** `{month, year}` of "MM/YY", "MM / YYYY" or "MMYY", or null. */
export function parseExpiry(raw) {
  const digits = raw.replace(/[\s/-]/g, "");
  if (!/^\d{4}(\d{2})?$/.test(digits)) return null;
  const month = Number(digits.slice(0, 2));
  let year = Number(digits.slice(2));
  if (year < 100) year += 2000;
  if (month < 1 || month > 12) return null;
  const now = new Date();
  const thisMonth = now.getFullYear() * 12 + now.getMonth();
  if (year * 12 + (month - 1) < thisMonth) return null;
  return { month, year };
}

function showError(form, id, message) {
  const error = form.querySelector(`#${id}`);
  if (!error) return;
  error.textContent = message;
  error.hidden = !message;
  const input = form.querySelector(`#${id.replace(/-error$/, "")}`);
  if (input) {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

function clearErrors(form) {
  for (const id of ["card-number-error", "card-expiry-error", "card-cvc-error", "card-error"]) {
    showError(form, id, "");
  }
}

function mountSandbox(form) {
  const msg = form.dataset;
  const number = form.querySelector("#card-number");
  const expiry = form.querySelector("#card-expiry");
  const cvc = form.querySelector("#card-cvc");
  number.addEventListener("blur", () => {
    const digits = number.value.replace(/\D/g, "");
    if (digits.length >= 12) number.value = digits.replace(/(\d{4})(?=\d)/g, "$1 ");
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const digits = number.value.replace(/[\s-]/g, "");
    const exp = parseExpiry(expiry.value);
    const problems = [];
    if (!/^\d{12,19}$/.test(digits) || !luhn(digits)) problems.push(["card-number-error", msg.msgNumber]);
    if (!exp) problems.push(["card-expiry-error", msg.msgExpiry]);
    if (!/^\d{3,4}$/.test(cvc.value.trim())) problems.push(["card-cvc-error", msg.msgCvc]);
    if (problems.length > 0) {
      for (const [id, message] of problems) showError(form, id, message);
      form.querySelector(`#${problems[0][0].replace(/-error$/, "")}`).focus();
      return;
    }
    setBusy(form, true);
    try {
      const response = await fetch("/sandbox/payment_methods", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({
          card: { number: digits, exp_month: exp.month, exp_year: exp.year, cvc: cvc.value.trim() },
        }),
      });
      const body = await response.json();
      if (response.ok) {
        form.elements.payment_method.value = body.id;
        form.submit();
        return;
      }
      const code = body.error && body.error.code;
      const where = { incorrect_number: ["card-number-error", msg.msgNumber],
        invalid_expiry: ["card-expiry-error", msg.msgExpiry],
        invalid_cvc: ["card-cvc-error", msg.msgCvc],
        card_declined: ["card-number-error", msg.msgNotTest] }[code] || ["card-error", msg.msgNetwork];
      showError(form, where[0], where[1]);
    } catch (_) {
      showError(form, "card-error", msg.msgNetwork);
    }
    setBusy(form, false);
  });
}

function mountStripe(form) {
  const msg = form.dataset;
  if (typeof window.Stripe !== "function" || !msg.publishableKey) {
    showError(form, "card-error", msg.msgUnavailable);
    setBusy(form, true);
    return;
  }
  const stripe = window.Stripe(msg.publishableKey);
  const elements = stripe.elements({ locale: document.documentElement.lang });
  const card = elements.create("card", { hidePostalCode: true });
  card.mount("#card-element");
  card.on("change", (change) => showError(form, "card-error", change.error ? change.error.message : ""));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    setBusy(form, true);
    if (msg.clientSecret) {
      const result = await stripe.confirmCardPayment(msg.clientSecret, { payment_method: { card } });
      if (result.error) {
        showError(form, "card-error", result.error.message);
        setBusy(form, false);
      } else {
        window.location.assign(msg.returnUrl);
      }
      return;
    }
    const result = await stripe.createPaymentMethod({ type: "card", card });
    if (result.error) {
      showError(form, "card-error", result.error.message);
      setBusy(form, false);
      return;
    }
    form.elements.payment_method.value = result.paymentMethod.id;
    form.submit();
  });
}

export function mount(form) {
  if (form.dataset.mode === "stripe") mountStripe(form);
  else mountSandbox(form);
}
