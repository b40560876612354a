//! Email: lettre over SMTP when configured, else `.eml` files in `<data_dir>/mail` so a
//! newcomer sees what would have been sent. Templates are files (`server/templates`),
//! rendered by substituting `{{name}}` with the (HTML-escaped, for the HTML part) values.

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Settings, SmtpSettings, SmtpTls};

const DIGEST_TEXT: &str = include_str!("../templates/digest.txt");
const DIGEST_HTML: &str = include_str!("../templates/digest.html");

/// Why a message was not accepted. Only a permanent refusal (a 5xx reply, an address that
/// cannot be written) ends a message; a relay that is down, slow or answers 4xx is retried
/// for as long as it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    Transient(String),
    Permanent(String),
}

impl SendError {
    pub fn text(&self) -> &str {
        match self {
            SendError::Transient(text) | SendError::Permanent(text) => text,
        }
    }
}

pub enum Mailer {
    Smtp(Box<SmtpMailer>),
    File(AsyncFileTransport<Tokio1Executor>),
}

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// SMTP through lettre's pooled transport, with a limit on the whole conversation: lettre's
/// own timeout bounds each read and write, not a relay that answers nothing mid-DATA. A try
/// cut short leaves its connection mid-conversation, so the pool is replaced then: the next
/// try must not pick the silent connection up again.
pub struct SmtpMailer {
    transport: std::sync::RwLock<std::sync::Arc<Transport>>,
    settings: SmtpSettings,
    limit: std::time::Duration,
}

impl SmtpMailer {
    fn build(smtp: &SmtpSettings, limit: std::time::Duration) -> anyhow::Result<Transport> {
        let mut builder = Transport::builder_dangerous(smtp.host.clone()).port(smtp.port);
        builder = match smtp.tls {
            SmtpTls::None => builder.tls(Tls::None),
            SmtpTls::StartTls => builder.tls(Tls::Required(TlsParameters::new(smtp.host.clone())?)),
            SmtpTls::Tls => builder.tls(Tls::Wrapper(TlsParameters::new(smtp.host.clone())?)),
        };
        if let (Some(user), Some(pass)) = (&smtp.username, &smtp.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), pass.expose().to_string()));
        }
        Ok(builder.timeout(Some(limit)).build())
    }

    fn current(&self) -> std::sync::Arc<Transport> {
        match self.transport.read() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace_pool(&self) {
        match Self::build(&self.settings, self.limit) {
            Ok(fresh) => match self.transport.write() {
                Ok(mut t) => *t = std::sync::Arc::new(fresh),
                Err(poisoned) => *poisoned.into_inner() = std::sync::Arc::new(fresh),
            },
            Err(error) => tracing::error!(?error, "could not rebuild the SMTP transport"),
        }
    }

    async fn send(&self, message: Message) -> Result<(), SendError> {
        let transport = self.current();
        match tokio::time::timeout(self.limit, transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            // 530/534/535/538: the relay refuses *us* (login, policy), not the message; a
            // wrong password must not turn the whole outbox FAILED while it is fixed.
            Ok(Err(e)) if e.status().is_some_and(|c| c.to_string().starts_with("53")) => Err(
                SendError::Transient(format!("邮件服务器拒绝登录或发信权限：{e}")),
            ),
            Ok(Err(e)) if e.is_permanent() => {
                Err(SendError::Permanent(format!("邮件服务器拒收：{e}")))
            }
            Ok(Err(e)) => Err(SendError::Transient(format!("暂时未能投递：{e}"))),
            Err(_) => {
                self.replace_pool();
                Err(SendError::Transient(format!(
                    "邮件服务器{}秒内未完成应答",
                    self.limit.as_secs()
                )))
            }
        }
    }
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        let Some(smtp) = &settings.smtp else {
            let folder = settings.data_dir.join("mail");
            std::fs::create_dir_all(&folder)?;
            return Ok(Mailer::File(AsyncFileTransport::new(folder)));
        };
        let transport = SmtpMailer::build(smtp, settings.smtp_timeout)?;
        Ok(Mailer::Smtp(Box::new(SmtpMailer {
            transport: std::sync::RwLock::new(std::sync::Arc::new(transport)),
            settings: smtp.clone(),
            limit: settings.smtp_timeout,
        })))
    }

    /// Sends one message.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Mailer::Smtp(smtp) => smtp.send(message).await,
            // A full or unwritable disk is an outage, not a verdict on the message.
            Mailer::File(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| SendError::Transient(format!("写入邮件文件失败：{e}"))),
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

pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Fills the digest frame: `sections_text` goes in as is, `sections_html` is already HTML
/// (its parts escaped by the caller); every other value is escaped for the HTML part.
pub fn render_digest(
    subject: &str,
    salutation: &str,
    intro: &str,
    sections_text: &str,
    sections_html: &str,
    sent_at: &str,
) -> Rendered {
    let office = "区政府办公室督查室";
    let fill = |template: &str, html: bool| {
        let value = |v: &str| if html { escape_html(v) } else { v.to_string() };
        template
            .replace("{{subject}}", &value(subject))
            .replace("{{salutation}}", &value(salutation))
            .replace("{{intro}}", &value(intro))
            .replace("{{office}}", &value(office))
            .replace("{{sent_at}}", &value(sent_at))
            .replace(
                "{{sections}}",
                if html { sections_html } else { sections_text },
            )
    };
    Rendered {
        subject: subject.to_string(),
        text: fill(DIGEST_TEXT, false),
        html: fill(DIGEST_HTML, true),
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
    fn the_frame_fills_every_placeholder_and_escapes_html() {
        let rendered = render_digest(
            "【督办】<测试>",
            "<区住建局>",
            "请阅知",
            "· 一项\n",
            "<ol><li>一项</li></ol>",
            "2026年11月24日",
        );
        assert!(
            !rendered.text.contains("{{") && !rendered.html.contains("{{"),
            "all placeholders filled"
        );
        assert!(rendered.text.starts_with("<区住建局>："));
        assert!(
            rendered.html.contains("&lt;区住建局&gt;")
                && rendered.html.contains("<ol><li>一项</li></ol>")
        );
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
