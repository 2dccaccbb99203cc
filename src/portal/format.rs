//! Amounts, dates and rates for the visitor's language, through the invoice documents'
//! formatting (`9,90 €` / `€9.90`, `30 novembre 2026`), and the reverse: amounts and rates as
//! people type them. The parsing rules are mirrored by `assets/js/money.js` (the live totals
//! of a new invoice), and tested on the same cases.

use chrono::NaiveDate;
use invoice_documents::{format, Currency};

use super::i18n::Lang;

/// `minor_units` of `currency` (`eur`) for `lang`.
pub fn money(minor_units: i64, currency: &str, lang: Lang) -> String {
    match Currency::parse(&currency.to_ascii_uppercase()) {
        Ok(currency) => format::amount(minor_units, &currency, lang.documents()),
        Err(_) => format!("{minor_units} {currency}"),
    }
}

/// A date, or the date of an RFC 3339 time (`2026-11-30T…`), for `lang`.
pub fn date(raw: &str, lang: Lang) -> String {
    raw.get(..10)
        .and_then(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
        .map_or_else(|| raw.to_owned(), |day| format::date(day, lang.documents()))
}

/// A VAT rate in basis points (`20 %`, `5.5%`).
pub fn rate(bps: i64, lang: Lang) -> String {
    format::rate(u32::try_from(bps).unwrap_or(0), lang.documents())
}

/// A quantity, grouped for `lang`.
pub fn quantity(quantity: i64, lang: Lang) -> String {
    format::quantity(quantity, lang.documents())
}

/// An amount as typed (`12`, `12.5`, `12,50`, `1 234,56`, `1,234.56`) in minor units of a
/// currency with `decimals` decimals. The last `,` or `.` is the decimal mark when one to
/// `decimals` digits follow it; otherwise every `,` and `.` groups thousands (by threes), so
/// `1,000` is a thousand, never one. `None` when it is not an amount.
pub fn parse_amount(raw: &str, decimals: u32) -> Option<i64> {
    let text: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if text.is_empty()
        || text.len() > 24
        || !text
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
    {
        return None;
    }
    let (head, fraction) = match text.rfind([',', '.']) {
        Some(at) if decimals > 0 && (1..=decimals as usize).contains(&(text.len() - at - 1)) => {
            (&text[..at], &text[at + 1..])
        }
        _ => (text.as_str(), ""),
    };
    let groups: Vec<&str> = head.split([',', '.']).collect();
    let grouped_well = groups.len() == 1
        || (!groups[0].is_empty()
            && groups[0].len() <= 3
            && groups[1..].iter().all(|group| group.len() == 3));
    if !grouped_well || (head.is_empty() && fraction.is_empty()) {
        return None;
    }
    let whole: String = groups.concat();
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut fraction_units: i64 = 0;
    for position in 0..decimals as usize {
        let digit = fraction
            .as_bytes()
            .get(position)
            .map_or(0, |byte| i64::from(byte - b'0'));
        fraction_units = fraction_units * 10 + digit;
    }
    whole
        .checked_mul(10_i64.pow(decimals))?
        .checked_add(fraction_units)
}

/// A percentage as typed (`20`, `5.5`, `5,5`, `12,34`) in basis points.
pub fn parse_rate(raw: &str) -> Option<i64> {
    let text: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '%')
        .collect();
    let (whole, fraction) = match text.split_once([',', '.']) {
        Some((whole, fraction)) => (whole, fraction),
        None => (text.as_str(), ""),
    };
    let digits = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 3
        || fraction.len() > 2
        || !digits(whole)
        || !digits(fraction)
    {
        return None;
    }
    let fraction = format!("{fraction:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + fraction.parse::<i64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_people_type_them() {
        let cases = [
            ("12", Some(1200)),
            ("12.5", Some(1250)),
            ("12,50", Some(1250)),
            ("0,05", Some(5)),
            (",5", Some(50)),
            ("1 234,56", Some(123_456)),
            ("1\u{202F}234,56", Some(123_456)),
            ("1,234.56", Some(123_456)),
            ("1.234,56", Some(123_456)),
            ("1,000", Some(100_000)),
            ("1.000", Some(100_000)),
            ("999999.99", Some(99_999_999)),
            ("12.345", Some(1_234_500)),
            ("1,2345", None),
            ("12,5,0", None),
            ("-3", None),
            ("abc", None),
            ("", None),
            (".", None),
            ("1e3", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse_amount(raw, 2), expected, "{raw:?}");
        }
        assert_eq!(parse_amount("1,000", 0), Some(1000));
        assert_eq!(parse_amount("12.5", 0), None);
    }

    #[test]
    fn rates_read_as_percentages() {
        assert_eq!(parse_rate("20"), Some(2000));
        assert_eq!(parse_rate("5,5"), Some(550));
        assert_eq!(parse_rate("5.5 %"), Some(550));
        assert_eq!(parse_rate("12.34"), Some(1234));
        assert_eq!(parse_rate("0"), Some(0));
        assert_eq!(parse_rate("1.234"), None);
        assert_eq!(parse_rate(""), None);
        assert_eq!(parse_rate("x"), None);
    }

    #[test]
    fn amounts_and_dates_follow_the_language() {
        assert_eq!(money(990, "eur", Lang::Fr), "9,90\u{A0}€");
        assert_eq!(money(990, "eur", Lang::En), "€9.90");
        assert_eq!(
            date("2026-11-30T10:00:00.000Z", Lang::Fr),
            "30 novembre 2026"
        );
        assert_eq!(date("2026-11-30", Lang::En), "30 November 2026");
    }
}
