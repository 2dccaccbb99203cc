//! The SMTP sink.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::support::smtp::SmtpSink;

/// Plain SMTP to the sink on loopback: no TLS, a connection per message.
fn transport(port: u16) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .timeout(Some(Duration::from_secs(5)))
        .build()
}

fn invoice_mail(message_id: &str) -> Message {
    Message::builder()
        .message_id(Some(format!("<{message_id}>")))
        .from(
            "Billing <billing@billstream.test>"
                .parse()
                .expect("an address"),
        )
        .to("Ada Lovelace <ada@example.com>"
            .parse()
            .expect("an address"))
        .subject("Your invoice 2026-0001")
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain("Your invoice is attached.".to_owned()))
                .singlepart(Attachment::new("2026-0001.pdf".to_owned()).body(
                    b"%PDF-1.4 not really".to_vec(),
                    ContentType::parse("application/pdf").expect("a type"),
                )),
        )
        .expect("a message")
}

#[tokio::test]
async fn an_email_sent_with_lettre_arrives_with_its_message_id_and_attachment() {
    let sink = SmtpSink::start().await;
    transport(sink.port())
        .send(invoice_mail("smoke-1@billstream.test"))
        .await
        .expect("the sink accepts the message");

    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.message_id.as_deref(), Some("smoke-1@billstream.test"));
    assert_eq!(mail.to, ["ada@example.com"]);
    assert_eq!(mail.subject.as_deref(), Some("Your invoice 2026-0001"));
    assert_eq!(mail.envelope_from, "billing@billstream.test");
    assert_eq!(mail.envelope_to, ["ada@example.com"]);
    assert_eq!(mail.attachments.len(), 1, "{:?}", mail.attachments);
    assert_eq!(mail.attachments[0].name.as_deref(), Some("2026-0001.pdf"));
    assert_eq!(mail.attachments[0].content_type, "application/pdf");
    assert_eq!(mail.attachments[0].content, b"%PDF-1.4 not really");
    let raw = String::from_utf8_lossy(&mail.raw);
    assert!(raw.contains("Subject: Your invoice 2026-0001"), "{raw}");
}

#[tokio::test]
async fn a_stopped_sink_refuses_mail_and_takes_it_again_after_a_restart_on_the_same_port() {
    let mut sink = SmtpSink::start().await;
    let port = sink.port();

    sink.stop().await;
    let refused = transport(port)
        .send(invoice_mail("down@billstream.test"))
        .await;
    assert!(refused.is_err(), "a stopped sink accepted mail");

    sink.restart().await;
    assert_eq!(sink.port(), port);
    transport(port)
        .send(invoice_mail("back@billstream.test"))
        .await
        .expect("the restarted sink accepts the message");
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    let ids: Vec<_> = mails.iter().map(|mail| mail.message_id.clone()).collect();
    assert_eq!(ids, [Some("back@billstream.test".to_owned())]);
}
