//! Where the login page may send someone after signing in: only to a page of this
//! console. Anything else (another host, a scheme, a path a browser could read as
//! another host, a header-splitting attempt) falls back to the dashboard.

/// The console's pages live at `/` and under these prefixes.
const CONSOLE_PREFIXES: &[&str] = &[
    "/licensing",
    "/installations",
    "/users",
    "/tokens",
    "/audit",
    "/settings",
    "/enterprise",
    "/password",
    "/customers",
];

/// Longest `next` followed (a console URL is short).
const MAX_LEN: usize = 2048;

/// `next` when it is a path of this console, else `/`.
pub fn safe_next(next: Option<&str>) -> &str {
    next.filter(|n| is_console_path(n)).unwrap_or("/")
}

/// `next` when it is a path of the customer portal (under `/portal`), else `/portal/`.
pub fn safe_portal_next(next: Option<&str>) -> &str {
    next.filter(|n| {
        is_safe_local(n) && {
            let path = n.split(['?', '#']).next().unwrap_or_default();
            path == "/portal" || path.starts_with("/portal/")
        }
    })
    .unwrap_or("/portal/")
}

fn is_console_path(next: &str) -> bool {
    if !is_safe_local(next) {
        return false;
    }
    let path = next.split(['?', '#']).next().unwrap_or_default();
    path == "/"
        || CONSOLE_PREFIXES.iter().any(|p| {
            path.strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

/// A path on this host that no browser reads as another host or scheme, with no dot
/// segments and nothing odd percent-encoded.
fn is_safe_local(next: &str) -> bool {
    // Printable ASCII only: no control characters (tab, CR, LF, ...), no spaces, no
    // non-ASCII that a browser might normalise into something else.
    if next.is_empty() || next.len() > MAX_LEN || !next.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    if !next.starts_with('/') || next.contains('\\') || next.contains("//") {
        return false;
    }
    if encodes_something_odd(next) {
        return false;
    }
    let path = next.split(['?', '#']).next().unwrap_or_default();
    !path.split('/').any(|seg| seg == "." || seg == "..")
}

/// A percent-escape of a control character or a backslash: refused as well, so the
/// value stays harmless whatever decodes it later.
fn encodes_something_odd(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(3).any(|w| {
        w[0] == b'%' && {
            let hi = w[1].to_ascii_lowercase();
            let lo = w[2].to_ascii_lowercase();
            matches!(hi, b'0' | b'1') || (hi == b'7' && lo == b'f') || (hi == b'5' && lo == b'c')
        }
    })
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn console_paths_are_kept() {
        for ok in [
            "/",
            "/users",
            "/licensing",
            "/licensing/heartbeats",
            "/audit?action=user.create&cursor=abc",
            "/installations/5b9e3f0a-1c2d",
            "/?notice=x",
        ] {
            assert_eq!(safe_next(Some(ok)), ok, "{ok}");
        }
    }

    #[test]
    fn the_portal_keeps_its_own_paths_only() {
        use super::safe_portal_next;
        for ok in [
            "/portal/",
            "/portal",
            "/portal/account",
            "/portal/orgs/3?x=1",
        ] {
            assert_eq!(safe_portal_next(Some(ok)), ok, "{ok}");
        }
        for bad in [
            "/",
            "/users",
            "/portalx",
            "//evil.example",
            "/portal/../users",
            "/portal/%0d%0a",
            "https://evil.example/portal/",
        ] {
            assert_eq!(safe_portal_next(Some(bad)), "/portal/", "{bad:?}");
        }
        assert_eq!(safe_portal_next(None), "/portal/");
    }

    #[test]
    fn anything_else_goes_to_the_dashboard() {
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "/\t/evil.example/x",
            "/\t\\evil.example",
            "/\r\nSet-Cookie:x",
            "/%0d%0aSet-Cookie:x",
            "/%5cevil.example",
            "/licensing//evil.example",
            "/licensing/../../evil",
            "/usersx",
            "/api/v1/users",
            "/static/app.js",
            "evil.example",
            " /users",
            "/users\u{202e}",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(
            safe_next(Some(&format!("/users?{}", "a".repeat(3000)))),
            "/"
        );
    }
}
