//! A small SMTP server on loopback for the email tests: enough of RFC 5321 for lettre
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeping what it receives. It can refuse the
//! next messages (a 451, as a relay under load would, or a permanent 550), hang in DATA (a
//! delivery killed half-way), take its time over each message (a slow relay), or be down
//! (connections dropped at once).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Received {
    pub recipients: Vec<String>,
    pub data: String,
    /// When the relay accepted it (the fault test places repeats between kills).
    #[allow(dead_code)]
    pub at: std::time::Instant,
}

impl Received {
    /// The Message-ID header's value.
    pub fn message_id(&self) -> String {
        self.data
            .lines()
            .find_map(|l| {
                l.strip_prefix("Message-ID:")
                    .or_else(|| l.strip_prefix("Message-Id:"))
            })
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    }

    /// The Subject header, with RFC 2047 encoded words decoded.
    pub fn subject(&self) -> String {
        let mut header = String::new();
        let mut in_subject = false;
        for line in self.data.lines() {
            if let Some(rest) = line.strip_prefix("Subject:") {
                header.push_str(rest.trim());
                in_subject = true;
            } else if in_subject && line.starts_with([' ', '\t']) {
                header.push(' ');
                header.push_str(line.trim());
            } else if in_subject {
                break;
            }
        }
        decode_words(&header)
    }
}

fn decode_words(text: &str) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        let inner = word
            .strip_prefix("=?utf-8?b?")
            .or_else(|| word.strip_prefix("=?UTF-8?B?"));
        match inner.and_then(|w| w.strip_suffix("?=")) {
            Some(b64) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_default();
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
            None => out.push_str(word),
        }
    }
    out
}

#[derive(Clone, Default)]
pub struct SmtpServer {
    pub address: Option<SocketAddr>,
    received: Arc<Mutex<Vec<Received>>>,
    refuse_next: Arc<AtomicUsize>,
    reject_next: Arc<AtomicUsize>,
    hang_next: Arc<AtomicUsize>,
    stall_next: Arc<AtomicUsize>,
    delay_ms: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
    refuse_sender: Arc<AtomicBool>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind SMTP");
        let mut server = SmtpServer {
            address: listener.local_addr().ok(),
            ..SmtpServer::default()
        };
        let shared = server.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                if shared.down.load(Ordering::SeqCst) {
                    drop(socket);
                    continue;
                }
                let session = shared.clone();
                tokio::spawn(async move { session.serve(socket).await });
            }
        });
        server.address = server.address.or(None);
        server
    }

    pub fn port(&self) -> u16 {
        self.address.map(|a| a.port()).unwrap_or_default()
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn refuse_next(&self, n: usize) {
        self.refuse_next.store(n, Ordering::SeqCst);
    }

    pub fn hang_next(&self, n: usize) {
        self.hang_next.store(n, Ordering::SeqCst);
    }

    /// The next `n` messages are never answered (the connection stays open, silent).
    pub fn stall_next(&self, n: usize) {
        self.stall_next.store(n, Ordering::SeqCst);
    }

    /// The next `n` messages get a permanent 550.
    pub fn reject_next(&self, n: usize) {
        self.reject_next.store(n, Ordering::SeqCst);
    }

    /// Each message takes this long to be accepted.
    pub fn delay(&self, ms: u64) {
        self.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Refuses every sender with 530 (authentication required), as a relay whose
    /// credentials changed does.
    pub fn refuse_sender(&self, refuse: bool) {
        self.refuse_sender.store(refuse, Ordering::SeqCst);
    }

    /// Down: every connection is dropped at once.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    async fn serve(self, socket: tokio::net::TcpStream) {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        let _ = write.write_all(b"220 ducha-test ESMTP\r\n").await;
        let mut recipients = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            if self.down.load(Ordering::SeqCst) {
                // A relay that went away also drops the connections a client kept open.
                return;
            }
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250-ducha-test\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("MAIL FROM") && self.refuse_sender.load(Ordering::SeqCst) {
                b"530 5.7.0 authentication required\r\n"
            } else if upper.starts_with("MAIL FROM") {
                recipients.clear();
                b"250 OK\r\n"
            } else if upper.starts_with("RCPT TO") {
                let address = line
                    .split(['<', '>'])
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                recipients.push(address);
                b"250 OK\r\n"
            } else if upper.starts_with("DATA") {
                let _ = write.write_all(b"354 go ahead\r\n").await;
                let mut data = String::new();
                while let Ok(Some(body_line)) = lines.next_line().await {
                    if body_line == "." {
                        break;
                    }
                    data.push_str(&body_line);
                    data.push('\n');
                }
                if take_one(&self.hang_next) {
                    // Do not answer: the sender is stuck here and gets killed; then the
                    // connection drops, as it does when a process dies.
                    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
                    return;
                }
                if take_one(&self.stall_next) {
                    tokio::time::sleep(std::time::Duration::from_secs(600)).await;
                    return;
                }
                let delay = self.delay_ms.load(Ordering::SeqCst);
                if delay > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
                }
                if take_one(&self.refuse_next) {
                    b"451 try again later\r\n"
                } else if take_one(&self.reject_next) {
                    b"550 mailbox unavailable\r\n"
                } else {
                    if let Ok(mut received) = self.received.lock() {
                        received.push(Received {
                            recipients: recipients.clone(),
                            data,
                            at: std::time::Instant::now(),
                        });
                    }
                    b"250 queued\r\n"
                }
            } else if upper.starts_with("QUIT") {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            } else {
                b"250 OK\r\n"
            };
            if write.write_all(reply).await.is_err() {
                return;
            }
        }
    }
}

fn take_one(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

#[test]
fn subjects_are_decoded_from_encoded_words() {
    let received = Received {
        at: std::time::Instant::now(),
        recipients: vec![],
        data: "From: x\nSubject: =?utf-8?b?44CQ552j5p+l6YCa55+l44CR552j44CUMjAyNuOAlTHlj7cg5Zu9?=\n =?utf-8?b?5bqG5pyf6Ze05pmv5Yy65a6J5YWo5L+d6Zqc?=\nMessage-ID: <1>\n".into(),
    };
    assert_eq!(
        received.subject(),
        "【督查通知】督〔2026〕1号 国庆期间景区安全保障"
    );
}
