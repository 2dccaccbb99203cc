//! `/account`: the sign-in e-mail, the password change, the e-mail preferences and the
//! billing details (their form is handled in `account_billing`).

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::account_billing::BillingFields;
use super::forms::{FieldErrors, FormData};
use super::i18n::fill;
use super::page::{app_error_page, error_text, redirect_with, Flash, Frame, Nav};
use super::session::{sign_in, SignedIn};
use aggregates::customer::MailLanguage;

use crate::auth::PlainPassword;
use crate::error::AppError;
use crate::http::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    f: Frame,
    email_line: String,
    errors: FieldErrors,
    message: String,
    /// The e-mail language choices: code (empty: the service's default), label, selected.
    languages: Vec<(&'static str, &'static str, bool)>,
    receipts: bool,
    /// The billing details form, as stored or as just typed.
    billing: BillingFields,
}

/// The page; `typed_billing` re-shows a refused billing form as typed.
pub(super) async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    errors: FieldErrors,
    message: String,
    typed_billing: Option<BillingFields>,
) -> Result<AccountPage, AppError> {
    let t = signed_in.visitor.t;
    let profile = state.customers.profile(&signed_in.customer_id).await?;
    Ok(AccountPage {
        f: signed_in.visitor.frame(t.account_title, Nav::Account),
        email_line: fill(t.account_email, &[("email", &profile.email)]),
        errors,
        message,
        languages: [
            ("", t.mail_language_default),
            ("fr", "Français"),
            ("en", "English"),
        ]
        .into_iter()
        .map(|(code, label)| {
            let selected = profile.mail_language.as_deref().unwrap_or("") == code;
            (code, label, selected)
        })
        .collect(),
        receipts: profile.mail_receipts,
        billing: typed_billing
            .unwrap_or_else(|| BillingFields::from_details(profile.billing_details())),
    })
}

/// `GET /account`.
pub async fn show(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    match page(
        &state,
        &signed_in,
        FieldErrors::default(),
        String::new(),
        None,
    )
    .await
    {
        Ok(page) => page.into_response(),
        Err(error) => app_error_page(&signed_in.visitor, error),
    }
}

/// `POST /account/password` (`current_password`, `new_password`).
pub async fn change_password(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = signed_in.visitor.t;
    let form = FormData::parse(&body);
    let new_password = form.raw("new_password");
    let changed = state
        .customers
        .change_password(
            &signed_in.customer_id,
            &form.raw("current_password"),
            &new_password,
            None,
        )
        .await;
    let mut errors = FieldErrors::default();
    let mut message = String::new();
    match changed {
        Ok(()) => {
            // The change ended every token issued before it, this session's too: sign the
            // visitor in again at the new credentials.
            let mut response = redirect_with("/dashboard", Flash::PasswordChanged);
            let signed = match state.customers.profile(&signed_in.customer_id).await {
                Ok(profile) => sign_in(&mut response, &state, &profile, &headers),
                Err(error) => Err(error),
            };
            return match signed {
                Ok(()) => response,
                Err(error) => app_error_page(&signed_in.visitor, error),
            };
        }
        Err(AppError::WrongCurrentPassword) => {
            errors.add("current_password", t.err_current_password)
        }
        Err(AppError::Validation(_)) if new_password.len() > PlainPassword::MAX_BYTES => {
            errors.add("new_password", t.err_password_long)
        }
        Err(AppError::Validation(_)) => errors.add("new_password", t.err_password_length),
        Err(other) => message = error_text(t, &other),
    }
    match page(&state, &signed_in, errors, message, None).await {
        Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
        Err(error) => app_error_page(&signed_in.visitor, error),
    }
}

/// `POST /account/mail` (`language`: `fr`, `en` or empty to keep; `receipts`: checked or not).
pub async fn save_mail_preferences(
    State(state): State<AppState>,
    signed_in: SignedIn,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let language = match form.get("language").as_str() {
        "" => Ok(None),
        code => MailLanguage::parse(code).map(Some),
    };
    let saved = match language {
        Ok(language) => {
            state
                .customers
                .change_mail_preferences(
                    &signed_in.customer_id,
                    language,
                    Some(form.checked("receipts")),
                    None,
                )
                .await
        }
        Err(invalid) => Err(invalid.into()),
    };
    match saved {
        Ok(_) => redirect_with("/account", Flash::ProfileSaved),
        Err(AppError::Validation(_)) => {
            let mut errors = FieldErrors::default();
            errors.add("language", signed_in.visitor.t.err_invalid);
            match page(&state, &signed_in, errors, String::new(), None).await {
                Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
                Err(error) => app_error_page(&signed_in.visitor, error),
            }
        }
        Err(error) => app_error_page(&signed_in.visitor, error),
    }
}
