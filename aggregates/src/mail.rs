//! One e-mail message, from the customer's point of view: the fact that it was sent. Its id is
//! the message's Message-ID (itself keyed by the log position of the event it tells about), so
//! recording it again — a crash between the SMTP server's acceptance and the bookkeeping, a
//! second process — finds it recorded and adds nothing. The state is one flag: nothing grows.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

/// A message's state: sent or not yet.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailMessage {
    /// The outbox position it was recorded under, once sent.
    sent_position: Option<i64>,
}

/// The one command: the transport accepted the message.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSent {
    pub message_id: String,
    pub customer_id: String,
    /// The message's kind (`invoice_issued`, `trial_ending`…).
    pub kind: String,
    /// The log position of the event the message tells about.
    pub position: i64,
    pub sent_at: DateTime<Utc>,
}

/// What happened to a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MailEvent {
    /// The message left billstream (the SMTP server or the local mailbox accepted it).
    EmailSent {
        message_id: String,
        customer_id: String,
        kind: String,
        position: i64,
        sent_at: DateTime<Utc>,
    },
}

impl DomainEvent for MailEvent {
    fn event_type(&self) -> String {
        match self {
            Self::EmailSent { .. } => "EmailSent",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

/// A record that contradicts the one already made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The same Message-ID recorded for another outbox position: a bug, never two messages.
    #[error("this message was recorded for another event")]
    OtherMessage,
}

impl Aggregate for MailMessage {
    const TYPE: &'static str = "MailMessage";
    type Command = RecordSent;
    type Event = MailEvent;
    type Error = MailError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let events = match self.sent_position {
            // Recorded already: a retry after a crash adds nothing.
            Some(position) if position == command.position => vec![],
            Some(_) => return Err(MailError::OtherMessage),
            None => vec![MailEvent::EmailSent {
                message_id: command.message_id,
                customer_id: command.customer_id,
                kind: command.kind,
                position: command.position,
                sent_at: command.sent_at,
            }],
        };
        crate::emit(self, sink, events).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            MailEvent::EmailSent { position, .. } => self.sent_position = Some(position),
        }
    }
}

#[cfg(test)]
mod tests {
    //! Given / when / then: a message is recorded as sent once.

    use chrono::TimeZone;
    use cqrs_es::test::TestFramework;

    use super::*;

    fn sent_at() -> DateTime<Utc> {
        Utc.timestamp_opt(1_780_000_000, 0).unwrap()
    }

    fn record(position: i64) -> RecordSent {
        RecordSent {
            message_id: "42.payment_receipt@billstream.localhost".into(),
            customer_id: "cust-1".into(),
            kind: "payment_receipt".into(),
            position,
            sent_at: sent_at(),
        }
    }

    fn sent(position: i64) -> MailEvent {
        MailEvent::EmailSent {
            message_id: "42.payment_receipt@billstream.localhost".into(),
            customer_id: "cust-1".into(),
            kind: "payment_receipt".into(),
            position,
            sent_at: sent_at(),
        }
    }

    #[test]
    fn a_sent_message_is_recorded() {
        TestFramework::<MailMessage>::with(())
            .given_no_previous_events()
            .when(record(42))
            .then_expect_events(vec![sent(42)]);
    }

    #[test]
    fn recording_it_again_after_a_crash_adds_nothing() {
        TestFramework::<MailMessage>::with(())
            .given(vec![sent(42)])
            .when(record(42))
            .then_expect_events(vec![]);
    }

    #[test]
    fn the_same_message_id_for_another_event_is_refused() {
        TestFramework::<MailMessage>::with(())
            .given(vec![sent(42)])
            .when(record(43))
            .then_expect_error(MailError::OtherMessage);
    }
}
