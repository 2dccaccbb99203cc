//! How amounts, dates, rates and quantities read in each language.
//!
//! French follows the CLDR `fr` conventions: a narrow no-break space (U+202F) groups
//! thousands and precedes `%`, a comma marks decimals, and the currency symbol follows the
//! amount after a no-break space (U+00A0), so no line break ever separates a number from its
//! unit. English puts the symbol first and uses `,` and `.`. Currencies without a symbol print
//! their ISO code.

use chrono::{Datelike, NaiveDate};

use crate::currency::Currency;
use crate::model::Language;

/// Groups thousands in French.
pub const NARROW_NBSP: char = '\u{202F}';
/// Separates an amount from its currency in French.
pub const NBSP: char = '\u{00A0}';

/// `1 234,56 €` (fr) or `€1,234.56` (en); `1 234,56 CHF` or `CHF 1,234.56` without symbol.
pub fn amount(minor_units: i64, currency: &Currency, language: Language) -> String {
    let number = number(minor_units, currency.exponent(), language);
    let (sign, digits) = match number.strip_prefix('-') {
        Some(digits) => ("-", digits.to_owned()),
        None => ("", number),
    };
    match (language, currency.symbol()) {
        (Language::Fr, Some(symbol)) => format!("{sign}{digits}{NBSP}{symbol}"),
        (Language::Fr, None) => format!("{sign}{digits}{NBSP}{}", currency.code()),
        (Language::En, Some(symbol)) => format!("{sign}{symbol}{digits}"),
        (Language::En, None) => format!("{sign}{}{NBSP}{digits}", currency.code()),
    }
}

/// A fixed-point number with `exponent` decimals, grouped for the language.
pub fn number(minor_units: i64, exponent: u32, language: Language) -> String {
    let (group, decimal) = separators(language);
    let sign = if minor_units < 0 { "-" } else { "" };
    let magnitude = minor_units.unsigned_abs();
    let scale = 10u64.pow(exponent);
    let whole = grouped(magnitude / scale, group);
    if exponent == 0 {
        return format!("{sign}{whole}");
    }
    let fraction = magnitude % scale;
    format!(
        "{sign}{whole}{decimal}{fraction:0width$}",
        width = exponent as usize
    )
}

/// An integer quantity, grouped for the language (`10 000`, `10,000`).
pub fn quantity(quantity: i64, language: Language) -> String {
    number(quantity, 0, language)
}

/// A VAT rate in basis points: `20 %`, `5,5 %` (fr); `20%`, `5.5%` (en). Trailing zeros of
/// the decimals are dropped.
pub fn rate(bps: u32, language: Language) -> String {
    let whole = bps / 100;
    let fraction = bps % 100;
    let (_, decimal) = separators(language);
    let digits = match fraction {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}{decimal}{}", f / 10),
        f => format!("{whole}{decimal}{f:02}"),
    };
    match language {
        Language::Fr => format!("{digits}{NARROW_NBSP}%"),
        Language::En => format!("{digits}%"),
    }
}

/// `30 novembre 2026` / `1er décembre 2026` (fr), `30 November 2026` (en).
pub fn date(date: NaiveDate, language: Language) -> String {
    let month = date.month0() as usize;
    match language {
        Language::Fr => {
            let day = match date.day() {
                1 => "1er".to_owned(),
                d => d.to_string(),
            };
            format!("{day} {} {}", FRENCH_MONTHS[month], date.year())
        }
        Language::En => format!("{} {} {}", date.day(), ENGLISH_MONTHS[month], date.year()),
    }
}

/// A SIREN (or the first nine digits of a SIRET) as it is usually printed: `123 456 789`.
pub fn siren(siren: &str) -> String {
    let digits: Vec<char> = siren.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 9 {
        return siren.to_owned();
    }
    digits
        .chunks(3)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

const FRENCH_MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

const ENGLISH_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn separators(language: Language) -> (char, char) {
    match language {
        Language::Fr => (NARROW_NBSP, ','),
        Language::En => (',', '.'),
    }
}

fn grouped(value: u64, separator: char) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn french_amounts_group_with_narrow_spaces_and_put_the_symbol_after() {
        let eur = currency("EUR");
        assert_eq!(
            amount(123_456, &eur, Language::Fr),
            "1\u{202F}234,56\u{A0}€"
        );
        assert_eq!(amount(5, &eur, Language::Fr), "0,05\u{A0}€");
        assert_eq!(
            amount(123_456_789_012, &eur, Language::Fr),
            "1\u{202F}234\u{202F}567\u{202F}890,12\u{A0}€"
        );
        assert_eq!(amount(-4_000, &eur, Language::Fr), "-40,00\u{A0}€");
    }

    #[test]
    fn english_amounts_put_the_symbol_first() {
        let eur = currency("EUR");
        assert_eq!(amount(123_456, &eur, Language::En), "€1,234.56");
        assert_eq!(amount(-4_000, &eur, Language::En), "-€40.00");
        assert_eq!(amount(99, &currency("USD"), Language::En), "$0.99");
    }

    #[test]
    fn currencies_without_decimals_print_whole_units() {
        let jpy = currency("JPY");
        assert_eq!(amount(1_234_567, &jpy, Language::En), "¥1,234,567");
        assert_eq!(
            amount(1_234_567, &jpy, Language::Fr),
            "1\u{202F}234\u{202F}567\u{A0}¥"
        );
    }

    #[test]
    fn currencies_without_a_symbol_print_their_code() {
        let chf = currency("CHF");
        assert_eq!(
            amount(123_456, &chf, Language::Fr),
            "1\u{202F}234,56\u{A0}CHF"
        );
        assert_eq!(amount(123_456, &chf, Language::En), "CHF\u{A0}1,234.56");
    }

    #[test]
    fn dates_read_naturally_in_each_language() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(date(d, Language::Fr), "30 novembre 2026");
        assert_eq!(date(d, Language::En), "30 November 2026");
        let first = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        assert_eq!(date(first, Language::Fr), "1er août 2026");
        assert_eq!(date(first, Language::En), "1 August 2026");
    }

    #[test]
    fn vat_rates_drop_useless_decimals() {
        assert_eq!(rate(2000, Language::Fr), "20\u{202F}%");
        assert_eq!(rate(550, Language::Fr), "5,5\u{202F}%");
        assert_eq!(rate(210, Language::Fr), "2,1\u{202F}%");
        assert_eq!(rate(1234, Language::Fr), "12,34\u{202F}%");
        assert_eq!(rate(0, Language::Fr), "0\u{202F}%");
        assert_eq!(rate(2000, Language::En), "20%");
        assert_eq!(rate(550, Language::En), "5.5%");
        assert_eq!(rate(1005, Language::En), "10.05%");
    }

    #[test]
    fn quantities_and_sirens_are_grouped() {
        assert_eq!(quantity(10_000, Language::Fr), "10\u{202F}000");
        assert_eq!(quantity(10_000, Language::En), "10,000");
        assert_eq!(quantity(7, Language::En), "7");
        assert_eq!(siren("123456789"), "123 456 789");
        assert_eq!(siren("12345"), "12345");
    }
}
