// Money in the browser, computed exactly as the server computes it: integer minor units as
// BigInt (a line's quantity × unit price × VAT rate can pass 2^53), VAT rounded half up per
// line, and the same reading of typed amounts and the same formatting as
// `src/portal/format.rs` and the invoice documents (`9,90 €` in French, `€9.90` in English).

const SYMBOLS = { eur: "€", usd: "$", gbp: "£", jpy: "¥" };
const NBSP = "\u00A0";
const NARROW_NBSP = "\u202F";

/**
 * An amount as typed ("12", "12,50", "1 234,56", "1,234.56") in minor units, or null. The last
 * "," or "." is the decimal mark when 1 to `places` digits follow it; otherwise every "," and
 * "." groups thousands by threes.
 */
export function parseAmount(raw, places) {
  const text = raw.replace(/\s/g, "");
  if (text === "" || text.length > 24 || !/^[\d.,]+$/.test(text)) return null;
  let head = text;
  let fraction = "";
  const at = Math.max(text.lastIndexOf(","), text.lastIndexOf("."));
  const tail = at >= 0 ? text.length - at - 1 : 0;
  if (at >= 0 && places > 0 && tail >= 1 && tail <= places) {
    head = text.slice(0, at);
    fraction = text.slice(at + 1);
  }
  const groups = head.split(/[.,]/);
  const groupedWell = groups.length === 1
    || (groups[0] !== "" && groups[0].length <= 3 && groups.slice(1).every((g) => g.length === 3));
  if (!groupedWell || (head === "" && fraction === "")) return null;
  const whole = BigInt(groups.join("") || "0");
  const padded = (fraction + "0".repeat(places)).slice(0, places);
  return whole * 10n ** BigInt(places) + BigInt(padded || "0");
}

/** A percentage as typed ("20", "5,5", "12.34") in basis points, or null. */
export function parseRate(raw) {
  const text = raw.replace(/[\s%]/g, "");
  const match = /^(\d{1,3})(?:[.,](\d{0,2}))?$/.exec(text);
  if (!match) return null;
  return BigInt(match[1]) * 100n + BigInt((match[2] || "").padEnd(2, "0"));
}

/** A line's subtotal, VAT (half up) and total, as the server computes them. */
export function lineAmounts(quantity, unitAmount, rateBps) {
  const subtotal = quantity * unitAmount;
  const tax = (subtotal * rateBps + 5000n) / 10000n;
  return { subtotal, tax, total: subtotal + tax };
}

function grouped(digits, separator) {
  let out = "";
  for (let i = 0; i < digits.length; i += 1) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += separator;
    out += digits[i];
  }
  return out;
}

/** `minor` (BigInt) of `currency` with `currencyPlaces` decimals, for `lang` ("fr" or "en"). */
export function formatAmount(minor, currency, currencyPlaces, lang) {
  const places = Number(currencyPlaces);
  const negative = minor < 0n;
  const magnitude = negative ? -minor : minor;
  const scale = 10n ** BigInt(places);
  const [group, mark] = lang === "fr" ? [NARROW_NBSP, ","] : [",", "."];
  let number = grouped((magnitude / scale).toString(), group);
  if (places > 0) number += mark + (magnitude % scale).toString().padStart(places, "0");
  const sign = negative ? "-" : "";
  const symbol = SYMBOLS[currency];
  const code = currency.toUpperCase();
  if (lang === "fr") return `${sign}${number}${NBSP}${symbol || code}`;
  return symbol ? `${sign}${symbol}${number}` : `${sign}${code}${NBSP}${number}`;
}
