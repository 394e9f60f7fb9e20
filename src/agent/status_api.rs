//! The local status API: `GET /status` answers the status JSON, on a Unix socket (mode
//! 0660) and optionally on a loopback TCP port. A tiny HTTP/1.1 responder: one request
//! per connection, `Connection: close`, bounded reads with a timeout. It answers from
//! the lease store alone, so it keeps answering while licd is unreachable.

use super::files::ensure_dir;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Produces the body of `GET /status` (JSON text).
pub type StatusSource = Arc<dyn Fn() -> String + Send + Sync>;

/// The longest request head read.
const MAX_HEAD: u64 = 8 * 1024;
/// How long a client gets to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Binds the Unix socket at `path` (its directory made 0750 when missing, a stale socket
/// removed) with mode 0660.
pub fn bind_socket(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        ensure_dir(dir, 0o750)?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

/// Serves the Unix socket on a thread of its own.
pub fn serve_unix(listener: UnixListener, source: StatusSource) {
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            match conn {
                Ok(stream) => {
                    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
                    let _ = stream.set_write_timeout(Some(READ_TIMEOUT));
                    if let Ok(reader) = stream.try_clone() {
                        spawn_answer(reader, stream, source.clone());
                    }
                }
                Err(e) => accept_failed("status socket", &e),
            }
        }
    });
}

/// Binds the loopback port.
pub fn bind_tcp(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr)
}

/// Serves the loopback port on a thread of its own.
pub fn serve_tcp(listener: TcpListener, source: StatusSource) {
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            match conn {
                Ok(stream) => {
                    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
                    let _ = stream.set_write_timeout(Some(READ_TIMEOUT));
                    if let Ok(reader) = stream.try_clone() {
                        spawn_answer(reader, stream, source.clone());
                    }
                }
                Err(e) => accept_failed("status port", &e),
            }
        }
    });
}

/// Answers one connection on a thread of its own, so a slow client delays no other.
fn spawn_answer(
    reader: impl Read + Send + 'static,
    writer: impl Write + Send + 'static,
    source: StatusSource,
) {
    std::thread::spawn(move || answer(reader, writer, &source));
}

/// A failed accept (e.g. out of file descriptors) is logged; the listener goes on.
fn accept_failed(what: &str, e: &std::io::Error) {
    tracing::warn!(error = %e, "{what}: accept failed");
    std::thread::sleep(Duration::from_millis(100));
}

/// Reads one request head and writes the answer.
fn answer(reader: impl Read, mut writer: impl Write, source: &StatusSource) {
    let mut head = BufReader::new(reader.take(MAX_HEAD));
    let mut request_line = String::new();
    if head.read_line(&mut request_line).is_err() {
        return;
    }
    // The rest of the head (headers) up to the blank line; bodies are not read.
    let mut line = String::new();
    loop {
        line.clear();
        match head.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, body) = match (method, path) {
        ("GET", "/status") => ("200 OK", source()),
        (_, "/status") => (
            "405 Method Not Allowed",
            problem(405, "method_not_allowed", "only GET /status is served"),
        ),
        _ => (
            "404 Not Found",
            problem(404, "not_found", "the agent serves GET /status only"),
        ),
    };
    let content_type = if status.starts_with("200") {
        "application/json"
    } else {
        "application/problem+json"
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = writer.write_all(response.as_bytes());
    let _ = writer.flush();
}

fn problem(status: u16, code: &str, detail: &str) -> String {
    serde_json::json!({
        "type": "about:blank", "title": detail, "status": status, "detail": detail, "code": code,
    })
    .to_string()
}

/// Asks the Unix socket at `path` for `GET /status`; returns the body of a 200.
pub fn fetch(path: &Path) -> std::io::Result<String> {
    let mut stream = std::os::unix::net::UnixStream::connect(path)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.write_all(b"GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut text = String::new();
    stream.take(4 * 1024 * 1024).read_to_string(&mut text)?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if !head.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!(
            "the agent answered {}",
            head.lines().next().unwrap_or("nothing")
        )));
    }
    Ok(body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_answers_get_status_and_refuses_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run/status.sock");
        let listener = bind_socket(&path).expect("bind");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o660);
        serve_unix(listener, Arc::new(|| "{\"state\":\"valid\"}".to_owned()));
        assert_eq!(fetch(&path).expect("status"), "{\"state\":\"valid\"}");

        let mut s = std::os::unix::net::UnixStream::connect(&path).expect("connect");
        s.write_all(b"POST /status HTTP/1.1\r\n\r\n")
            .expect("write");
        let mut text = String::new();
        s.read_to_string(&mut text).expect("read");
        assert!(text.starts_with("HTTP/1.1 405"), "{text}");

        let mut s = std::os::unix::net::UnixStream::connect(&path).expect("connect");
        s.write_all(b"garbage\r\n\r\n").expect("write");
        let mut text = String::new();
        s.read_to_string(&mut text).expect("read");
        assert!(text.starts_with("HTTP/1.1 404"), "{text}");
    }
}
