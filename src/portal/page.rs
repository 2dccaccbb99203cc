//! What every page shares: the visitor (language, session, flash message, path) read from the
//! request, the frame every template is drawn in, redirects with a flash message, the language
//! switch, and the error pages (nothing internal is ever shown; internals are logged).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{ACCEPT, ACCEPT_LANGUAGE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::i18n::{Catalog, Lang};
use super::session::{self, cookie, Session};
use crate::error::AppError;
use crate::http::AppState;

/// The language cookie (the visible switch remembers the choice for a year).
const LANG_COOKIE: &str = "bs_lang";
/// The one-shot message shown on the page after a redirect.
const FLASH_COOKIE: &str = "bs_flash";

/// Who is asking, in which language, for which page.
pub struct Visitor {
    pub lang: Lang,
    pub t: &'static Catalog,
    pub session: Option<Session>,
    /// Path and query of this request (where the language switch and sign-in come back to).
    pub path: String,
    pub flash: Option<Flash>,
    /// Sandbox mode (billstream's own card form) or Stripe mode (Stripe Elements).
    pub sandbox: bool,
    pub stripe_key: Option<String>,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = language(&parts.headers);
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned());
        Ok(Self {
            lang,
            t: lang.catalog(),
            session: session::of_request(parts, state).await,
            path,
            flash: cookie(&parts.headers, FLASH_COOKIE).and_then(|name| Flash::parse(&name)),
            sandbox: state.sandbox.is_some(),
            stripe_key: state.stripe_publishable_key.clone(),
        })
    }
}

/// The remembered language, else the browser's, else English.
pub fn language(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(|code| Lang::from_tag(&code))
        .or_else(|| {
            headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok())
                .and_then(Lang::negotiate)
        })
        .unwrap_or(Lang::En)
}

/// Which menu entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Home,
    Plans,
    Pay,
    Dashboard,
    Invoices,
    Account,
    SignIn,
    None,
}

/// A link of the language switch.
pub struct LangLink {
    pub code: &'static str,
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

/// The frame every page is drawn in: `<html lang>`, title, menu, flash message, scripts.
pub struct Frame {
    pub t: &'static Catalog,
    pub lang: &'static str,
    pub title: String,
    pub signed_in: bool,
    pub nav: Nav,
    pub flash: Option<String>,
    pub languages: Vec<LangLink>,
    /// Stripe.js on this page (Stripe mode, a page with a card form).
    pub stripe_js: bool,
    pub sandbox: bool,
}

impl Visitor {
    /// The frame of a page titled `title`.
    pub fn frame(&self, title: impl Into<String>, nav: Nav) -> Frame {
        let next = super::session::safe_return_path(&self.path);
        Frame {
            t: self.t,
            lang: self.lang.code(),
            title: title.into(),
            signed_in: self.session.is_some(),
            nav,
            flash: self.flash.map(|flash| flash.text(self.t).to_owned()),
            languages: Lang::ALL
                .iter()
                .map(|lang| LangLink {
                    code: lang.code(),
                    name: lang.name(),
                    href: format!(
                        "/language/{}?next={}",
                        lang.code(),
                        super::forms::encode(&next)
                    ),
                    current: *lang == self.lang,
                })
                .collect(),
            stripe_js: false,
            sandbox: self.sandbox,
        }
    }

    /// The same frame, loading Stripe.js in Stripe mode (pages with a card form).
    pub fn card_frame(&self, title: impl Into<String>, nav: Nav) -> Frame {
        let mut frame = self.frame(title, nav);
        frame.stripe_js = !self.sandbox;
        frame
    }
}

impl Frame {
    /// True when `name` (`plans`, `dashboard`…) is this page's menu entry (`aria-current`).
    pub fn current(&self, name: &str) -> bool {
        let current = match self.nav {
            Nav::Home => "home",
            Nav::Plans => "plans",
            Nav::Pay => "pay",
            Nav::Dashboard => "dashboard",
            Nav::Invoices => "invoices",
            Nav::Account => "account",
            Nav::SignIn => "login",
            Nav::None => "",
        };
        current == name
    }
}

macro_rules! flashes {
    ($($variant:ident => $key:ident),* $(,)?) => {
        /// A message shown once, on the page a redirect leads to.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Flash { $($variant,)* }

        impl Flash {
            fn name(self) -> &'static str {
                match self { $(Flash::$variant => stringify!($variant),)* }
            }

            fn parse(raw: &str) -> Option<Flash> {
                match raw { $(stringify!($variant) => Some(Flash::$variant),)* _ => None }
            }

            fn text(self, t: &Catalog) -> &'static str {
                match self { $(Flash::$variant => t.$key,)* }
            }
        }
    };
}

flashes! {
    Welcome => flash_welcome,
    SignedIn => flash_signed_in,
    SignedOut => flash_signed_out,
    ProfileSaved => flash_profile_saved,
    PasswordChanged => flash_password_changed,
    Subscribed => flash_subscribed,
    CanceledAtEnd => flash_canceled_at_end,
    Resumed => flash_resumed,
    PlanChanged => flash_plan_changed,
    Refunded => flash_refunded,
    InvoiceCreated => flash_invoice_created,
    InvoicePaid => flash_invoice_paid,
    InvoiceFinalized => flash_invoice_finalized,
    SessionExpired => flash_session_expired,
}

/// A 303 to `location` (after a form post: the browser then GETs it).
pub fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// A 303 to `location` that shows `flash` there.
pub fn redirect_with(location: &str, flash: Flash) -> Response {
    let mut response = redirect(location);
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{FLASH_COOKIE}={}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax",
        flash.name()
    )) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// Forgets a flash message once its page has been drawn.
pub fn clear_flash(response: &mut Response) {
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_static("bs_flash=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
    );
}

/// True when the request carried a flash message.
pub fn has_flash(headers: &HeaderMap) -> bool {
    cookie(headers, FLASH_COOKIE).is_some()
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /language/{code}?next=…`: remembers the language for a year and goes back.
pub async fn switch_language(
    State(_state): State<AppState>,
    Path(code): Path<String>,
    Query(query): Query<NextQuery>,
) -> Response {
    let next = super::session::safe_return_path(query.next.as_deref().unwrap_or("/"));
    let mut response = redirect(&next);
    if let Some(lang) = Lang::from_tag(&code) {
        if let Ok(value) = HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            lang.code()
        )) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// A page that says what went wrong, in plain words.
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub f: Frame,
    pub heading: String,
    pub message: String,
}

/// The error page with `status`.
pub fn error_page(visitor: &Visitor, status: StatusCode, heading: &str, message: &str) -> Response {
    let page = ErrorPage {
        f: visitor.frame(heading, Nav::None),
        heading: heading.to_owned(),
        message: message.to_owned(),
    };
    (status, page).into_response()
}

/// The page for a use case's refusal that is not about one field.
pub fn app_error_page(visitor: &Visitor, error: AppError) -> Response {
    let t = visitor.t;
    let (status, heading) = match &error {
        AppError::NotFound => (StatusCode::NOT_FOUND, t.error_not_found_title),
        AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, t.error_server_title),
        AppError::PaymentProvider(_) => (StatusCode::BAD_GATEWAY, t.error_server_title),
        AppError::Conflict | AppError::InvalidState(_) | AppError::AlreadySubscribed => {
            (StatusCode::CONFLICT, t.error_forbidden_title)
        }
        _ => (StatusCode::UNPROCESSABLE_ENTITY, t.error_forbidden_title),
    };
    let message = error_text(t, &error);
    error_page(visitor, status, heading, &message)
}

/// The plain words for an error not tied to one field; logs what the visitor must not see.
pub fn error_text(t: &Catalog, error: &AppError) -> String {
    match error {
        AppError::NotFound => t.error_not_found.to_owned(),
        AppError::Internal(source) => {
            tracing::error!(error = %source, "a portal request failed");
            t.error_server.to_owned()
        }
        AppError::PaymentProvider(source) => {
            tracing::error!(error = %source, "the payment provider failed a portal request");
            t.error_provider.to_owned()
        }
        AppError::Conflict | AppError::IdempotencyKeyReused => t.error_conflict.to_owned(),
        AppError::InvalidState(_) => t.error_invalid_state.to_owned(),
        AppError::AlreadySubscribed => t.err_already_subscribed.to_owned(),
        AppError::InvalidCredentials => t.err_credentials.to_owned(),
        AppError::TooManyFailedLogins {
            retry_after_seconds,
        } => t
            .err_too_many_attempts
            .replace("{seconds}", &retry_after_seconds.to_string()),
        AppError::WrongCurrentPassword => t.err_current_password.to_owned(),
        AppError::EmailTaken => t.err_email_taken.to_owned(),
        AppError::Unauthenticated => t.flash_session_expired.to_owned(),
        AppError::Validation(_) => t.error_form.to_owned(),
        AppError::ResetTokenInvalid => t.err_reset_invalid.to_owned(),
        AppError::ResetTokenUsed => t.err_reset_used.to_owned(),
        AppError::ResetTokenExpired => t.err_reset_expired.to_owned(),
    }
}

/// The 404 page for a path nobody serves, when the client reads HTML (the API's JSON 404
/// otherwise); `None` when the JSON answer fits.
pub fn not_found_response(headers: &HeaderMap, path: &str, sandbox: bool) -> Option<Response> {
    let wants_html = headers
        .get(ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if !wants_html || path.starts_with("/api/") || path.starts_with("/sandbox/") {
        return None;
    }
    let lang = language(headers);
    let t = lang.catalog();
    let visitor = Visitor {
        lang,
        t,
        session: None,
        path: "/".to_owned(),
        flash: None,
        sandbox,
        stripe_key: None,
    };
    let mut response = error_page(
        &visitor,
        StatusCode::NOT_FOUND,
        t.error_not_found_title,
        t.error_not_found,
    );
    super::headers::apply(response.headers_mut(), !sandbox);
    Some(response)
}
