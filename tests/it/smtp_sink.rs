//! A real SMTP server for the tests, on a loopback port: a thread speaking enough SMTP
//! (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, STARTTLS) to receive what licd sends,
//! and keeping every message it accepted. Plain, STARTTLS (`smtp://...?tls=starttls`) or
//! TLS from the first byte (`smtps://`), with a certificate for 127.0.0.1 from a CA of
//! its own (`ca_pem`, for `email.ca_file`). Nothing to install.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::io::{BufRead, BufReader, Read, Write};
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

/// How the sink protects its conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkTls {
    Plain,
    /// Offers STARTTLS and refuses mail before it.
    StartTls,
    /// TLS from the first byte.
    Implicit,
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    /// The PEM of the CA that issued the sink's certificate (TLS modes).
    pub ca_pem: Option<String>,
    mode: SinkTls,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SmtpSink {
    /// A sink on a free loopback port.
    pub fn start() -> SmtpSink {
        Self::serve(TcpListener::bind("127.0.0.1:0").unwrap(), SinkTls::Plain)
    }

    /// A sink speaking TLS the way `mode` says, on a free loopback port.
    pub fn start_tls(mode: SinkTls) -> SmtpSink {
        Self::serve(TcpListener::bind("127.0.0.1:0").unwrap(), mode)
    }

    /// A sink on a given port (to bring a server "back" where licd expects it).
    pub fn start_on(port: u16) -> SmtpSink {
        Self::serve(
            TcpListener::bind(("127.0.0.1", port)).unwrap(),
            SinkTls::Plain,
        )
    }

    fn serve(listener: TcpListener, mode: SinkTls) -> SmtpSink {
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (received.clone(), stop.clone());
        let (ca_pem, tls) = match mode {
            SinkTls::Plain => (None, None),
            _ => {
                let (ca, config) = tls_config();
                (Some(ca), Some(config))
            }
        };
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    // One conversation at a time is all licd needs.
                    let _ = converse(conn, mode, tls.as_ref(), &r);
                }
            }
        });
        SmtpSink {
            addr,
            ca_pem,
            mode,
            received,
            stop,
            thread: Some(thread),
        }
    }

    /// `email.smtp_url` for this sink: `smtp://127.0.0.1:PORT`, with `?tls=starttls`,
    /// or `smtps://`.
    pub fn url(&self) -> String {
        match self.mode {
            SinkTls::Plain => format!("smtp://{}", self.addr),
            SinkTls::StartTls => format!("smtp://{}?tls=starttls", self.addr),
            SinkTls::Implicit => format!("smtps://{}", self.addr),
        }
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

/// A conversation's stream: plain until STARTTLS (or TLS from the start).
enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

fn wrap(tcp: TcpStream, config: &Arc<ServerConfig>) -> std::io::Result<Conn> {
    let server = ServerConnection::new(config.clone()).map_err(std::io::Error::other)?;
    Ok(Conn::Tls(Box::new(StreamOwned::new(server, tcp))))
}

/// A CA of the sink's own and a server configuration with a certificate it issued for
/// 127.0.0.1 and localhost.
fn tls_config() -> (String, Arc<ServerConfig>) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, &ca_key);
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let chain = vec![CertificateDer::from(cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = ServerConfig::builder_with_provider(licd::pki::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    (ca_cert.pem(), Arc::new(config))
}

fn converse(
    conn: TcpStream,
    mode: SinkTls,
    tls: Option<&Arc<ServerConfig>>,
    received: &Mutex<Vec<Received>>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(20)))?;
    let conn = match (mode, tls) {
        (SinkTls::Implicit, Some(config)) => wrap(conn, config)?,
        _ => Conn::Plain(conn),
    };
    let mut lines = BufReader::new(conn);
    let say = |lines: &mut BufReader<Conn>, s: &str| -> std::io::Result<()> {
        let out = lines.get_mut();
        out.write_all(format!("{s}\r\n").as_bytes())?;
        out.flush()
    };
    let mut secure = mode == SinkTls::Implicit;
    say(&mut lines, "220 sink.test ESMTP test sink")?;
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
            say(&mut lines, "250-sink.test greets you")?;
            if mode == SinkTls::StartTls && !secure {
                say(&mut lines, "250-STARTTLS")?;
            }
            say(&mut lines, "250-8BITMIME")?;
            say(&mut lines, "250 SMTPUTF8")?;
        } else if upper == "STARTTLS" && mode == SinkTls::StartTls && !secure {
            say(&mut lines, "220 go ahead")?;
            let Conn::Plain(tcp) = lines.into_inner() else {
                return Ok(());
            };
            lines = BufReader::new(wrap(tcp, tls.expect("a TLS sink has a config"))?);
            secure = true;
        } else if upper.starts_with("MAIL FROM:") && mode != SinkTls::Plain && !secure {
            say(&mut lines, "530 must issue STARTTLS first")?;
        } else if upper.starts_with("HELO") {
            say(&mut lines, "250 sink.test")?;
        } else if upper.starts_with("MAIL FROM:") {
            mail_from = address(&cmd[10..]);
            rcpt_to.clear();
            say(&mut lines, "250 OK")?;
        } else if upper.starts_with("RCPT TO:") {
            rcpt_to.push(address(&cmd[8..]));
            say(&mut lines, "250 OK")?;
        } else if upper == "DATA" {
            say(&mut lines, "354 end with <CRLF>.<CRLF>")?;
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
            say(&mut lines, "250 OK queued")?;
        } else if upper == "RSET" || upper == "NOOP" {
            say(&mut lines, "250 OK")?;
        } else if upper == "QUIT" {
            say(&mut lines, "221 bye")?;
            return Ok(());
        } else {
            say(&mut lines, "502 not implemented")?;
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
