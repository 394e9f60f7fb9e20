//! A real SMTP server for the tests, on a loopback port: a thread speaking enough SMTP
//! (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) to receive what licd sends, and
//! keeping every message it accepted. Nothing to install.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One message as the sink received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message (headers and body) as sent in DATA, dot-unstuffed, CRLF line ends.
    pub data: String,
}

impl Received {
    /// A header's value (the first of that name), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut()
                && line.starts_with([' ', '\t'])
            {
                v.push_str(line);
                continue;
            }
            if value.is_some() {
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_owned());
            }
        }
        value
    }
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SmtpSink {
    /// A sink on a free loopback port.
    pub fn start() -> SmtpSink {
        Self::serve(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    /// A sink on a given port (to bring a server "back" where licd expects it).
    pub fn start_on(port: u16) -> SmtpSink {
        Self::serve(TcpListener::bind(("127.0.0.1", port)).unwrap())
    }

    fn serve(listener: TcpListener) -> SmtpSink {
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (received.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    // One conversation at a time is all licd needs.
                    let _ = converse(conn, &r);
                }
            }
        });
        SmtpSink {
            addr,
            received,
            stop,
            thread: Some(thread),
        }
    }

    /// `smtp://127.0.0.1:PORT` for `email.smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag and closes the port.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A port on which nothing listens now (bound, then released).
pub fn unused_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn converse(conn: TcpStream, received: &Mutex<Vec<Received>>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut out = conn.try_clone()?;
    let mut lines = BufReader::new(conn);
    let mut say = |s: &str| out.write_all(format!("{s}\r\n").as_bytes());
    say("220 sink.test ESMTP test sink")?;
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end_matches(['\r', '\n']);
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            say("250-sink.test greets you")?;
            say("250-8BITMIME")?;
            say("250 SMTPUTF8")?;
        } else if upper.starts_with("HELO") {
            say("250 sink.test")?;
        } else if upper.starts_with("MAIL FROM:") {
            mail_from = address(&cmd[10..]);
            rcpt_to.clear();
            say("250 OK")?;
        } else if upper.starts_with("RCPT TO:") {
            rcpt_to.push(address(&cmd[8..]));
            say("250 OK")?;
        } else if upper == "DATA" {
            say("354 end with <CRLF>.<CRLF>")?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                let l = line.trim_end_matches(['\r', '\n']);
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(l));
                data.push_str("\r\n");
            }
            received.lock().unwrap().push(Received {
                mail_from: mail_from.clone(),
                rcpt_to: std::mem::take(&mut rcpt_to),
                data,
            });
            say("250 OK queued")?;
        } else if upper == "RSET" || upper == "NOOP" {
            say("250 OK")?;
        } else if upper == "QUIT" {
            say("221 bye")?;
            return Ok(());
        } else {
            say("502 not implemented")?;
        }
    }
}

/// `<a@b> SIZE=..` -> `a@b`.
fn address(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if a < b => arg[a + 1..b].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or("").to_owned(),
    }
}
