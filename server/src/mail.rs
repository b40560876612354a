//! Email: lettre over SMTP when configured, else `.eml` files in `<data_dir>/mail` so a
//! newcomer sees what would have been sent. A mail is written as a [`Digest`] (what it says)
//! and rendered twice: plain text, and HTML through maud like the pages, which escapes every
//! value it is given.

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Settings, SmtpSettings, SmtpTls};

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

/// What a digest mail says: to whom, why, and the items by topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub subject: String,
    pub salutation: String,
    pub intro: String,
    pub sections: Vec<DigestSection>,
    /// The date it was written, in words (2026年11月24日).
    pub sent_at: String,
}

/// One topic of a digest (a rung of the ladder, a rework…) and its items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestSection {
    pub heading: String,
    /// What the reader is asked to do.
    pub ask: String,
    /// The heading's colour (CSS), as the board shows the rung.
    pub colour: &'static str,
    pub items: Vec<DigestItem>,
    /// Said when some items are not listed.
    pub more: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestItem {
    pub serial: String,
    pub title: String,
    pub requirements: String,
    pub link: String,
    pub units: Vec<DigestUnit>,
}

/// A unit's part of an item, as a digest states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestUnit {
    pub name: String,
    /// 主办 or 协办.
    pub role: &'static str,
    pub due: String,
    pub situation: String,
}

/// Who signs every mail.
const OFFICE: &str = "区政府办公室督查室";
const FOOTER: &str = "本邮件由督查督办系统自动发送，请勿直接回复。";

impl Digest {
    pub fn render(&self) -> Rendered {
        Rendered {
            subject: self.subject.clone(),
            text: self.text(),
            html: self.html().into_string(),
        }
    }

    fn text(&self) -> String {
        use std::fmt::Write;
        let mut text = format!("{}：\n\n{}\n\n", self.salutation, self.intro);
        for section in &self.sections {
            let _ = write!(text, "{}\n{}\n\n", section.heading, section.ask);
            for item in &section.items {
                let _ = writeln!(text, "· {} {}", item.serial, item.title);
                let _ = writeln!(text, "  办理要求：{}", item.requirements);
                for unit in &item.units {
                    let _ = writeln!(
                        text,
                        "  承办单位：{}（{}），办理期限：{}",
                        unit.name, unit.role, unit.due
                    );
                    let _ = writeln!(text, "  当前情况：{}", unit.situation);
                }
                let _ = write!(text, "  查看详情：{}\n\n", item.link);
            }
            if let Some(more) = &section.more {
                let _ = write!(text, "{more}\n\n");
            }
        }
        let _ = write!(text, "\n{OFFICE}\n{}\n（{FOOTER}）\n", self.sent_at);
        text
    }

    fn html(&self) -> maud::Markup {
        maud::html! {
            (maud::DOCTYPE)
            html lang="zh-CN" {
                head { meta charset="utf-8"; title { (self.subject) } }
                body style="font-family: 'PingFang SC', 'Microsoft YaHei', sans-serif; color: #222; line-height: 1.7;" {
                    p { (self.salutation) "：" }
                    p style="white-space: pre-line;" { (self.intro) }
                    @for section in &self.sections {
                        h3 style={ "color:" (section.colour) ";" } { (section.heading) }
                        p { (section.ask) }
                        ol {
                            @for item in &section.items {
                                li {
                                    strong { (item.serial) " " (item.title) }
                                    br;
                                    "办理要求：" span style="white-space: pre-line;" { (item.requirements) }
                                    br;
                                    @for unit in &item.units {
                                        "承办单位：" (unit.name) "（" (unit.role) "），办理期限：" (unit.due)
                                        br;
                                        "当前情况：" span style="white-space: pre-line;" { (unit.situation) }
                                        br;
                                    }
                                    a href=(item.link) { "查看事项详情" }
                                }
                            }
                        }
                        @if let Some(more) = &section.more {
                            p { (more) }
                        }
                    }
                    p { (OFFICE) br; (self.sent_at) }
                    p style="color:#999; font-size: 12px;" { (FOOTER) }
                }
            }
        }
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
    fn a_digest_renders_every_value_and_escapes_it_in_html() {
        let digest = Digest {
            subject: "【督办】<测试>".into(),
            salutation: "<区住建局>".into(),
            intro: "请阅知".into(),
            sections: vec![DigestSection {
                heading: "红色预警（1项）".into(),
                ask: "请立即办理".into(),
                colour: "#cf222e",
                items: vec![DigestItem {
                    serial: "督〔2026〕1号".into(),
                    title: "消防通道<整治>".into(),
                    requirements: "3个工作日内 & 反馈".into(),
                    link: "https://ducha.example.gov.cn/items/1?a=1&b=2".into(),
                    units: vec![DigestUnit {
                        name: "区住建局".into(),
                        role: "主办",
                        due: "2026年11月24日 18:00".into(),
                        situation: "已逾期1个工作日".into(),
                    }],
                }],
                more: Some("另有3项未列出".into()),
            }],
            sent_at: "2026年11月24日".into(),
        };
        let rendered = digest.render();
        assert!(
            rendered.text.starts_with("<区住建局>："),
            "{}",
            rendered.text
        );
        for said in [
            "消防通道<整治>",
            "3个工作日内 & 反馈",
            "区住建局（主办）",
            "另有3项未列出",
        ] {
            assert!(rendered.text.contains(said), "{said} in {}", rendered.text);
        }
        assert!(
            rendered.html.contains("&lt;区住建局&gt;")
                && rendered.html.contains("消防通道&lt;整治&gt;")
                && rendered.html.contains("3个工作日内 &amp; 反馈")
                && rendered
                    .html
                    .contains("href=\"https://ducha.example.gov.cn/items/1?a=1&amp;b=2\"")
                && !rendered.html.contains("<整治>"),
            "{}",
            rendered.html
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
