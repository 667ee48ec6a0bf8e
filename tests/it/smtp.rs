//! A real SMTP listener for tests: speaks enough of the protocol for lettre,
//! and can be told to refuse temporarily (451), permanently (550) or to
//! hang in the middle of a message.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Accept,
    TempFail,
    PermFail,
    /// Accepts the message text and then never answers.
    HangAfterData,
}

#[derive(Default)]
struct Inner {
    mode: Option<Mode>,
    /// Every MAIL FROM seen: one per delivery attempt.
    attempts: usize,
    /// Messages whose data was received (including hung ones).
    received: usize,
    accepted: Vec<String>,
}

pub struct SmtpServer {
    pub port: u16,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener)
    }

    /// Listens on a given port (to bring a "down" server back).
    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        Self::serve(listener)
    }

    /// A port on which nothing listens.
    pub async fn unused_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    }

    fn serve(listener: TcpListener) -> Self {
        let port = listener.local_addr().unwrap().port();
        let inner = Arc::new(Mutex::new(Inner {
            mode: Some(Mode::Accept),
            ..Inner::default()
        }));
        let shared = inner.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(session(stream, shared.clone()));
            }
        });
        Self { port, inner, task }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.inner.lock().unwrap().mode = Some(mode);
    }

    pub fn attempts(&self) -> usize {
        self.inner.lock().unwrap().attempts
    }

    pub fn received(&self) -> usize {
        self.inner.lock().unwrap().received
    }

    pub fn messages(&self) -> Vec<String> {
        self.inner.lock().unwrap().accepted.clone()
    }

    /// Waits until at least `n` messages were accepted.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let messages = self.messages();
            if messages.len() >= n || tokio::time::Instant::now() > deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the data of `n` messages arrived (accepted or hung).
    pub async fn wait_received(&self, n: usize, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            if self.received() >= n {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session(stream: TcpStream, inner: Arc<Mutex<Inner>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mode = || inner.lock().unwrap().mode.unwrap_or(Mode::Accept);
    if write
        .write_all(b"220 test.smtp ESMTP ready\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 test.smtp\r\n",
            "MAIL" => {
                inner.lock().unwrap().attempts += 1;
                match mode() {
                    Mode::TempFail => b"451 4.3.0 Try again later\r\n",
                    Mode::PermFail => b"550 5.1.1 Mailbox unavailable\r\n",
                    _ => b"250 2.1.0 Ok\r\n",
                }
            }
            "RCPT" => b"250 2.1.5 Ok\r\n",
            "DATA" => {
                if write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let mut message = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    message.push_str(&line);
                }
                inner.lock().unwrap().received += 1;
                if mode() == Mode::HangAfterData {
                    std::future::pending::<()>().await;
                }
                inner.lock().unwrap().accepted.push(message);
                b"250 2.0.0 Ok: queued\r\n"
            }
            "QUIT" => {
                let _ = write.write_all(b"221 2.0.0 Bye\r\n").await;
                return;
            }
            _ => b"250 2.0.0 Ok\r\n",
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}
