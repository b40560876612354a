//! Email: lettre over SMTP when configured, else `.eml` files in `<data_dir>/mail` so a
//! newcomer sees what would have been sent. Templates are files (`server/templates`),
//! rendered by substituting `{{name}}` with the (HTML-escaped, for the HTML part) values.

use std::collections::HashMap;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Settings, SmtpTls};

const NOTICE_TEXT: &str = include_str!("../templates/notice.txt");
const NOTICE_HTML: &str = include_str!("../templates/notice.html");

pub enum Mailer {
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
    File(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        let Some(smtp) = &settings.smtp else {
            let folder = settings.data_dir.join("mail");
            std::fs::create_dir_all(&folder)?;
            return Ok(Mailer::File(AsyncFileTransport::new(folder)));
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
                .port(smtp.port);
        builder = match smtp.tls {
            SmtpTls::None => builder.tls(Tls::None),
            SmtpTls::StartTls => builder.tls(Tls::Required(TlsParameters::new(smtp.host.clone())?)),
            SmtpTls::Tls => builder.tls(Tls::Wrapper(TlsParameters::new(smtp.host.clone())?)),
        };
        if let (Some(user), Some(pass)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        let transport = builder
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        Ok(Mailer::Smtp(Box::new(transport)))
    }

    /// Sends one message; the error is text for the outbox's `last_error`.
    pub async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Mailer::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Mailer::File(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// A rendered email, ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn fill(template: &str, values: &HashMap<&str, String>, html: bool) -> String {
    let mut out = template.to_string();
    for (key, value) in values {
        let value = if html && *key != "colour_css" {
            escape_html(value)
        } else {
            value.clone()
        };
        out = out.replace(&format!("{{{{{key}}}}}"), &value);
    }
    out
}

/// Renders the notice templates; `values` names every `{{placeholder}}`.
pub fn render_notice(subject: &str, values: &HashMap<&str, String>) -> Rendered {
    let mut values = values.clone();
    values.insert("subject", subject.to_string());
    Rendered {
        subject: subject.to_string(),
        text: fill(NOTICE_TEXT, &values, false),
        html: fill(NOTICE_HTML, &values, true),
    }
}

/// Builds the MIME message (plain text and HTML alternatives).
pub fn message(
    from: &str,
    to: &str,
    rendered: &Rendered,
    message_id: &str,
) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("发件人地址无效：{e}"))?;
    let to: Mailbox = to.parse().map_err(|e| format!("收件人地址无效：{e}"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(rendered.subject.clone())
        .message_id(Some(message_id.to_string()))
        .multipart(MultiPart::alternative_plain_html(
            rendered.text.clone(),
            rendered.html.clone(),
        ))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_every_placeholder_and_escape_html() {
        let values: HashMap<&str, String> = [
            "unit",
            "greeting",
            "serial",
            "title",
            "requirements",
            "due",
            "status",
            "expected",
            "link",
            "office",
            "sent_at",
            "colour_css",
        ]
        .into_iter()
        .map(|k| (k, format!("<{k}>")))
        .collect();
        let rendered = render_notice("【督办】测试", &values);
        assert!(
            !rendered.text.contains("{{") && !rendered.html.contains("{{"),
            "all placeholders filled"
        );
        assert!(rendered.text.contains("<serial>"));
        assert!(rendered.html.contains("&lt;serial&gt;") && !rendered.html.contains("<serial>"));
        let built = message(
            "督查室 <office@example.gov.cn>",
            "unit@example.gov.cn",
            &rendered,
            "<1@ducha>",
        );
        assert!(built.is_ok(), "{built:?}");
        assert!(
            message(
                "not an address",
                "unit@example.gov.cn",
                &rendered,
                "<1@ducha>"
            )
            .is_err()
        );
    }
}
