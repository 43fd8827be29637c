//! A real SMTP listener for the tests: speaks enough of RFC 5321 for lettre
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps what it receives.

use std::sync::{Arc, Mutex};

use mailparse::MailHeaderMap;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One delivered message, parsed.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct SmtpServer {
    pub port: u16,
    received: Arc<Mutex<Vec<Delivered>>>,
    task: JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback port that nothing listens on (yet).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        Self::start_on(0).await
    }

    pub async fn start_on(port: u16) -> SmtpServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(converse(stream, store.clone()));
            }
        });
        SmtpServer {
            port,
            received,
            task,
        }
    }

    pub fn received(&self) -> Vec<Delivered> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (real time, bounded) until `n` messages have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Delivered> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} emails, got {:?}", self.received());
    }

    /// The first message with `subject`, waiting for it.
    pub async fn with_subject(&self, subject: &str) -> Delivered {
        for _ in 0..200 {
            if let Some(m) = self.received().into_iter().find(|m| m.subject == subject) {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no email with subject {subject:?}; got {:?}",
            self.received()
        );
    }

    /// The messages sent to `recipient`, waiting for at least one.
    pub async fn to(&self, recipient: &str) -> Vec<Delivered> {
        for _ in 0..200 {
            let got: Vec<Delivered> = self
                .received()
                .into_iter()
                .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(recipient)))
                .collect();
            if !got.is_empty() {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no email to {recipient}; got {:?}", self.received());
    }
}

async fn converse(stream: TcpStream, store: Arc<Mutex<Vec<Delivered>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let _ = write
        .write_all(b"220 test.invalid ESMTP test listener\r\n")
        .await;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-test.invalid\r\n250 8BITMIME\r\n"
        } else if command.starts_with("HELO")
            || command.starts_with("MAIL FROM")
            || command.starts_with("NOOP")
        {
            b"250 OK\r\n"
        } else if command.starts_with("RSET") {
            to.clear();
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO") {
            let address = line.trim_end()[8..]
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>');
            to.push(address.to_owned());
            b"250 OK\r\n"
        } else if command == "DATA" {
            let _ = write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
            let mut data = Vec::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" {
                    break;
                }
                let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                data.extend_from_slice(unstuffed.as_bytes());
            }
            store
                .lock()
                .unwrap()
                .push(parse(std::mem::take(&mut to), &data));
            b"250 OK queued\r\n"
        } else if command == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"502 not implemented\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

fn parse(to: Vec<String>, data: &[u8]) -> Delivered {
    let mail = mailparse::parse_mail(data).unwrap();
    let subject = mail.headers.get_first_value("Subject").unwrap_or_default();
    let mut text = String::new();
    let mut html = String::new();
    for part in mail.subparts.iter().chain(std::iter::once(&mail)) {
        match part.ctype.mimetype.as_str() {
            "text/plain" => text = part.get_body().unwrap(),
            "text/html" => html = part.get_body().unwrap(),
            _ => {}
        }
    }
    Delivered {
        to,
        subject,
        text,
        html,
    }
}
