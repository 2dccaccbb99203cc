//! The portal's words: one catalog per language (`en.rs`, `fr.rs`), both of the one `Catalog`
//! type, so a key missing from a language is a compile error. Texts with values to fill in
//! name them in braces (`{amount}`), filled by [`fill`]; a test checks both languages name
//! the same ones and that no text is blank.

mod en;
mod fr;

use invoice_documents::Language;

/// Declares the catalog's keys once: the struct every language fills, and its entries for
/// the consistency tests.
macro_rules! catalog {
    ($($key:ident),* $(,)?) => {
        /// Every text the portal shows, in one language.
        pub struct Catalog {
            $(pub $key: &'static str,)*
        }

        impl Catalog {
            /// Every key with its text, in declaration order.
            pub fn entries(&self) -> Vec<(&'static str, &'static str)> {
                vec![$((stringify!($key), self.$key)),*]
            }
        }
    };
}

catalog! {
    // The frame
    site_tagline, skip_link, nav_label, nav_home, nav_plans, nav_pay, nav_dashboard,
    nav_invoices, nav_account, nav_login, nav_register, nav_logout, language_label,
    footer_sandbox, footer_stripe, signed_in_as, processing,
    // Flash messages
    flash_welcome, flash_signed_in, flash_signed_out, flash_profile_saved, flash_password_changed,
    flash_subscribed, flash_canceled_at_end, flash_resumed, flash_plan_changed, flash_refunded,
    flash_invoice_created, flash_invoice_paid, flash_invoice_finalized, flash_session_expired,
    // Home
    home_title, home_lead, home_point_cards, home_point_invoices, home_point_languages,
    home_cta_register, home_cta_dashboard, home_plans_heading,
    // Plans
    plans_title, plans_lead, per_month, per_year, trial_days, no_trial, subscribe_button,
    plan_current, sign_in_to_subscribe, subscribe_title, subscribe_summary_trial,
    subscribe_summary_now, subscribe_card_note, subscribe_confirm, back,
    // Card form
    card_legend, card_number, card_expiry, card_expiry_hint, card_cvc, card_holder_note,
    card_sandbox_hint, card_stripe_hint, card_noscript, card_error_number, card_error_expiry,
    card_error_cvc, card_error_not_test, card_error_network, card_error_stripe_unavailable,
    // One-off payments
    pay_title, pay_lead, amount, amount_hint, currency, description_optional, pay_continue,
    checkout_title, checkout_lead, pay_button, pay_another, payment_status_heading,
    status_requires_payment_method, status_requires_action, status_processing,
    status_succeeded, status_failed, status_canceled, status_partially_refunded,
    status_refunded, payment_succeeded, payment_failed, payment_waiting_bank, payment_processing,
    payment_try_again, decline_generic, decline_insufficient_funds, decline_authentication,
    decline_expired_card, decline_incorrect_cvc, decline_lost_or_stolen, decline_other,
    // 3-D Secure challenge (sandbox)
    challenge_title, challenge_text, challenge_sandbox_note, challenge_complete, challenge_fail,
    challenge_error, challenge_continue,
    // Dashboard
    dashboard_title, profile_heading, name, email, phone_optional, save, subscriptions_heading,
    no_subscription, browse_plans, sub_trialing, sub_active, sub_past_due, sub_canceled,
    sub_incomplete, sub_incomplete_expired, sub_unpaid, sub_paused, sub_pending, trial_until,
    renews_on, ends_on, ended_on, cancel_at_period_end, cancel_at_period_end_help, resume,
    change_plan, change_plan_to, payments_heading, no_payments, make_payment, date, status,
    refund, refund_amount_optional, refund_help, refunded_amount, refund_submit, stats_heading,
    no_stats, invoiced_total, paid_total, outstanding_total, overdue_total, invoice_counts,
    all_payments_note,
    // Plan change
    change_title, change_from, change_to, change_more, change_less, change_same,
    change_proration_note, change_trial_note, change_interval_note, change_confirm,
    interval_month, interval_year,
    // Invoices
    invoices_title, new_invoice, filter_label, all_statuses, apply_filter, inv_draft, inv_open,
    inv_paid, inv_void, inv_uncollectible, number, issued, due, total, actions, view, pay,
    download_pdf, no_invoices, no_invoices_filtered, older_page, newer_page, first_page,
    invoice_title, draft_title, issued_on, due_on, paid_on, description, quantity, unit_price,
    vat_rate, line_total, subtotal, tax, amount_due, amount_paid, memo, pay_saved_card,
    pay_saved_card_help, pay_new_card, finalize, finalize_help, share_heading, share_help,
    share_stripe_help, last_payment_error, invoices_caption, lines_caption,
    // Credit notes on the invoice page
    credit_notes_heading, credit_note_date, credit_note_amount, credit_note_reason,
    credit_notes_caption, amount_credited,
    // New invoice
    new_title, new_lead, line_legend, vat_rate_percent, add_line, remove_line, memo_optional,
    due_days, finalize_now, create_invoice, live_totals, totals_note,
    // Account
    account_title, password_heading, current_password, new_password, new_password_hint,
    change_password, account_email,
    // Sign-up, sign-in, sign-out
    register_title, register_lead, password, password_hint, register_button, have_account,
    login_title, login_lead, login_button, no_account, logout_title, logout_text, logout_button,
    // The public invoice link
    public_invoice_note, link_invalid_title, link_expired, link_tampered,
    // Errors
    error_not_found_title, error_not_found, error_forbidden_title, error_cross_site,
    error_server_title, error_server, error_provider, error_conflict, error_invalid_state,
    error_form, home_link,
    // Field messages
    err_email, err_email_taken, err_password_length, err_password_long, err_name, err_phone,
    err_credentials, err_too_many_attempts, err_current_password, err_amount, err_currency, err_description,
    err_payment_method, err_plan, err_already_subscribed, err_refund_amount,
    err_line_description, err_quantity, err_unit_amount, err_vat_rate, err_due_days, err_memo,
    err_lines, err_invalid,
    // Forgotten password and e-mail preferences
    forgot_link, forgot_title, forgot_lead, forgot_button, forgot_sent_title, forgot_sent,
    reset_title, reset_lead, reset_button, err_reset_invalid, err_reset_used, err_reset_expired,
    mail_heading, mail_language, mail_language_default, mail_receipts, mail_save,
    // Billing details (account page)
    billing_heading, billing_lead, billing_company, billing_siren, billing_vat, billing_line1,
    billing_line2, billing_postal_code, billing_city, billing_country, billing_save,
    err_required, err_siren, err_vat_number, err_country, err_postal_code, err_company_name,
}

/// A language of the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    /// Every language, in the order the switch shows them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The BCP 47 tag (`<html lang>`, the language cookie).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language's own name, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
        }
    }

    /// A language tag's language (`fr-CA` is French), if the portal speaks it.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }

    /// The preferred language of an `Accept-Language` header (by quality, then order).
    pub fn negotiate(accept_language: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in accept_language.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default();
            let quality = pieces
                .find_map(|param| param.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::from_tag(tag) {
                if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                    best = Some((quality, lang));
                }
            }
        }
        best.map(|(_, lang)| lang)
    }

    /// The language's texts.
    pub fn catalog(self) -> &'static Catalog {
        match self {
            Lang::En => &en::EN,
            Lang::Fr => &fr::FR,
        }
    }

    /// The same language for the invoice documents' formatting.
    pub fn documents(self) -> Language {
        match self {
            Lang::En => Language::En,
            Lang::Fr => Language::Fr,
        }
    }
}

/// `text` with each `{name}` replaced by its value.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(text: &str) -> Vec<String> {
        let mut names: Vec<String> = text
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn no_text_is_blank_and_both_languages_fill_in_the_same_values() {
        let english = Lang::En.catalog().entries();
        let french = Lang::Fr.catalog().entries();
        assert_eq!(english.len(), french.len());
        for ((key, en), (_, fr)) in english.iter().zip(&french) {
            assert!(!en.trim().is_empty(), "en.{key} is blank");
            assert!(!fr.trim().is_empty(), "fr.{key} is blank");
            assert_eq!(placeholders(en), placeholders(fr), "{key}");
        }
    }

    #[test]
    fn a_plan_catalog_may_translate_into_exactly_the_portal_languages() {
        let codes: Vec<&str> = Lang::ALL.iter().map(|lang| lang.code()).collect();
        assert_eq!(codes, crate::usecases::plans::LANGUAGES);
    }

    #[test]
    fn accept_language_picks_the_best_spoken_language() {
        assert_eq!(Lang::negotiate("fr-FR,fr;q=0.9,en;q=0.8"), Some(Lang::Fr));
        assert_eq!(Lang::negotiate("de-DE,en;q=0.5,fr;q=0.7"), Some(Lang::Fr));
        assert_eq!(Lang::negotiate("en-GB"), Some(Lang::En));
        assert_eq!(Lang::negotiate("de, es;q=0.4"), None);
        assert_eq!(Lang::negotiate("fr;q=0, en;q=0.1"), Some(Lang::En));
    }

    #[test]
    fn fill_replaces_named_values() {
        assert_eq!(
            fill("Pay {amount} now, {amount}", &[("amount", "€9.90")]),
            "Pay €9.90 now, €9.90"
        );
    }
}
