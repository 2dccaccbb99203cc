//! The customer's password resets and e-mail preferences: the state they need and the
//! decisions on it. A reset is usable once, until its expiry, and only while no password
//! change happened after it was requested (a change, by any route, voids older links).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::commands::{ChangeMailPreferences, RequestPasswordReset, ResetPassword};
use super::{CustomerError, CustomerEvent, MailLanguage};

/// What the resets and preferences decisions read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct AccountState {
    /// Every reset requested, by nonce. In every snapshot, one small entry per reset the
    /// customer asked for: kept so that an old link is refused as expired or used, which the
    /// customer can act on, rather than as unknown.
    resets: BTreeMap<String, PendingReset>,
    /// `None`: the service's default language.
    language: Option<MailLanguage>,
    /// Whether payment and refund receipts are e-mailed.
    receipts: bool,
}

impl Default for AccountState {
    fn default() -> Self {
        Self {
            resets: BTreeMap::new(),
            language: None,
            // Receipts go until the customer turns them off.
            receipts: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PendingReset {
    /// The reset is refused from this instant on (its expiry, or an earlier password change).
    expires_at: DateTime<Utc>,
    used: bool,
}

impl AccountState {
    /// The chosen language (`None`: the service's default).
    pub(super) fn language(&self) -> Option<MailLanguage> {
        self.language
    }

    /// Records the facts of a reset or preferences event.
    pub(super) fn apply(&mut self, event: CustomerEvent) {
        match event {
            CustomerEvent::PasswordResetRequested {
                reset_id,
                expires_at,
                ..
            } => {
                self.resets.insert(
                    reset_id,
                    PendingReset {
                        expires_at,
                        used: false,
                    },
                );
            }
            CustomerEvent::PasswordResetCompleted { reset_id, .. } => {
                if let Some(reset) = self.resets.get_mut(&reset_id) {
                    reset.used = true;
                }
            }
            CustomerEvent::MailPreferencesChanged {
                language, receipts, ..
            } => {
                self.language = language;
                self.receipts = receipts;
            }
            _ => {}
        }
    }

    /// A password change at `at` ends every reset still open: a link mailed before it must not
    /// undo it.
    pub(super) fn password_changed(&mut self, at: DateTime<Utc>) {
        for reset in self.resets.values_mut() {
            reset.expires_at = reset.expires_at.min(at);
        }
    }

    pub(super) fn request_reset(request: RequestPasswordReset) -> Vec<CustomerEvent> {
        vec![CustomerEvent::PasswordResetRequested {
            reset_id: request.reset_id,
            expires_at: request.expires_at,
            requested_at: request.requested_at,
        }]
    }

    /// Whether reset `reset_id` can still set a password at `now`: it exists, is unused and
    /// unexpired.
    pub(super) fn check_reset(
        &self,
        reset_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), CustomerError> {
        let pending = self
            .resets
            .get(reset_id)
            .ok_or(CustomerError::UnknownPasswordReset)?;
        if pending.used {
            return Err(CustomerError::PasswordResetUsed);
        }
        if now >= pending.expires_at {
            return Err(CustomerError::PasswordResetExpired);
        }
        Ok(())
    }

    /// The reset must still be open ([`Self::check_reset`]); then it is used and the password
    /// changes.
    pub(super) fn reset_password(
        &self,
        reset: ResetPassword,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        self.check_reset(&reset.reset_id, reset.now)?;
        Ok(vec![
            CustomerEvent::PasswordResetCompleted {
                reset_id: reset.reset_id,
                completed_at: reset.now,
            },
            CustomerEvent::PasswordChanged {
                password_hash: reset.password_hash,
                changed_at: reset.now,
            },
        ])
    }

    /// Records the preferences as they become; nothing when nothing changes.
    pub(super) fn change_mail_preferences(
        &self,
        change: ChangeMailPreferences,
    ) -> Vec<CustomerEvent> {
        let language = change.language.or(self.language);
        let receipts = change.receipts.unwrap_or(self.receipts);
        if language == self.language && receipts == self.receipts {
            return vec![];
        }
        vec![CustomerEvent::MailPreferencesChanged {
            language,
            receipts,
            changed_at: change.changed_at,
        }]
    }
}
