// The new-invoice form: lines added and removed in place, and the totals of each line and of
// the invoice computed as you type, exactly as the server will (see money.js).

import { formatAmount, lineAmounts, parseAmount, parseRate } from "./money.js";

export function mount(form) {
  // The domain's limits, from the server: a line the server would refuse shows no total.
  const [maxLines, maxQuantity, maxUnit, maxRate] = form.dataset.limits.split(" ");
  const MAX_LINES = Number(maxLines);
  const [MAX_QUANTITY, MAX_UNIT, MAX_RATE] = [maxQuantity, maxUnit, maxRate].map(BigInt);
  const lang = document.documentElement.lang;
  const list = form.querySelector("[data-lines]");
  const currency = form.querySelector("#currency");
  const template = list.querySelector("[data-line]").cloneNode(true);

  const renumber = () => {
    const lines = [...list.querySelectorAll("[data-line]")];
    lines.forEach((line, index) => {
      const n = String(index + 1);
      line.querySelector("legend").textContent = form.dataset.lineLegend.replace("{n}", n);
      const remove = line.querySelector("[data-remove]");
      remove.textContent = form.dataset.removeLabel.replace("{n}", n);
      remove.hidden = lines.length === 1;
      for (const input of line.querySelectorAll("input")) {
        const base = input.id.replace(/-\d+$/, "");
        input.id = `${base}-${index}`;
        const label = line.querySelector(`label[for^="${base}-"]`);
        if (label) label.htmlFor = input.id;
      }
    });
    form.querySelector("[data-add]").hidden = lines.length >= MAX_LINES;
  };

  const recompute = () => {
    const code = currency.value;
    const places = Number(currency.selectedOptions[0]?.dataset.decimals ?? 2);
    let subtotal = 0n;
    let tax = 0n;
    let complete = true;
    for (const line of list.querySelectorAll("[data-line]")) {
      const quantity = parseAmount(line.querySelector("[name=quantity]").value, 0);
      const unit = parseAmount(line.querySelector("[name=unit_amount]").value, places);
      const rateText = line.querySelector("[name=tax_rate]").value;
      const rate = rateText.trim() === "" ? 0n : parseRate(rateText);
      const output = line.querySelector("[data-line-total]");
      const valid = quantity !== null && quantity >= 1n && quantity <= MAX_QUANTITY
        && unit !== null && unit >= 1n && unit <= MAX_UNIT && rate !== null && rate <= MAX_RATE;
      if (!valid) {
        output.textContent = "—";
        complete = false;
        continue;
      }
      const amounts = lineAmounts(quantity, unit, rate);
      output.textContent = formatAmount(amounts.total, code, places, lang);
      subtotal += amounts.subtotal;
      tax += amounts.tax;
    }
    const show = (name, value) => {
      form.querySelector(`[data-${name}]`).textContent = complete ? formatAmount(value, code, places, lang) : "—";
    };
    show("subtotal", subtotal);
    show("tax", tax);
    show("total", subtotal + tax);
  };

  form.querySelector("[data-add]").addEventListener("click", (event) => {
    event.preventDefault();
    const line = template.cloneNode(true);
    for (const input of line.querySelectorAll("input")) {
      input.value = input.name === "quantity" ? "1" : "";
      input.removeAttribute("aria-invalid");
    }
    line.querySelectorAll(".error").forEach((error) => error.remove());
    list.appendChild(line);
    renumber();
    recompute();
    line.querySelector("input").focus();
  });
  list.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-remove]");
    if (!remove) return;
    event.preventDefault();
    remove.closest("[data-line]").remove();
    renumber();
    recompute();
    list.querySelector("[data-line] input").focus();
  });
  form.addEventListener("input", recompute);
  currency.addEventListener("change", recompute);
  renumber();
  recompute();
}
