//! Keeping secrets out of everything the backends show: manifests, records, error
//! messages, logs and `Debug` output.
//!
//! - [`redact_url`]: `http://user:pw@host:8000/v1?api_key=k` ->
//!   `http://***@host:8000/v1?api_key=***`. The real URL (credentials included) is
//!   still what requests go to; only what is shown is redacted.
//! - [`redact_text`]: known secrets, bearer tokens, `sk-...` keys and `key=value` pairs
//!   with a secret-looking name replaced by `***` in free text (error bodies, messages).
//! - [`truncate_utf8`]: a byte cap that never splits a character.

/// How many bytes of an HTTP error body an error message keeps.
pub const MAX_ERROR_BODY: usize = 512;

const MASK: &str = "***";

/// The URL with its userinfo replaced by `***` and every query (and fragment) value
/// replaced by `***`. Text that is not an `scheme://` URL is returned with only its
/// query values masked.
pub fn redact_url(url: &str) -> String {
    let (before_frag, frag) = match url.find('#') {
        Some(i) => (&url[..i], Some(&url[i + 1..])),
        None => (url, None),
    };
    let (before_query, query) = match before_frag.find('?') {
        Some(i) => (&before_frag[..i], Some(&before_frag[i + 1..])),
        None => (before_frag, None),
    };
    let mut out = String::with_capacity(url.len());
    match before_query.find("://") {
        Some(i) => {
            let (scheme, rest) = before_query.split_at(i + 3);
            out.push_str(scheme);
            let auth_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(auth_end);
            match authority.rfind('@') {
                Some(at) => {
                    out.push_str(MASK);
                    out.push_str(&authority[at..]);
                }
                None => out.push_str(authority),
            }
            out.push_str(path);
        }
        None => out.push_str(before_query),
    }
    if let Some(q) = query {
        out.push('?');
        out.push_str(&mask_pairs(q));
    }
    if let Some(f) = frag {
        out.push('#');
        out.push_str(&mask_pairs(f));
    }
    out
}

/// `a=1&b&c=3` -> `a=***&b&c=***` (a bare value with no `=` is masked whole).
fn mask_pairs(q: &str) -> String {
    q.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) => format!("{k}={MASK}"),
            None if pair.is_empty() => String::new(),
            None if q.contains('=') => pair.to_string(),
            None => MASK.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The secrets a URL carries: the userinfo password (and user name), and every query
/// value, percent-decoded or not. Used to scrub them out of free text.
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let before_frag = url.split('#').next().unwrap_or("");
    let (before_query, query) = match before_frag.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_frag, None),
    };
    if let Some(rest) = before_query.split_once("://").map(|(_, r)| r) {
        let authority = rest.split('/').next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            match userinfo.split_once(':') {
                Some((user, pw)) => {
                    out.push(pw.to_string());
                    out.push(user.to_string());
                }
                None => out.push(userinfo.to_string()),
            }
        }
    }
    if let Some(q) = query {
        for pair in q.split('&') {
            let v = pair.split_once('=').map_or(pair, |(_, v)| v);
            out.push(v.to_string());
        }
    }
    let decoded: Vec<String> = out.iter().map(|s| percent_decode(s)).collect();
    out.extend(decoded);
    // Very short values ("1", "on") would mask unrelated text; they are not secrets.
    out.retain(|s| s.len() >= 4);
    out.sort();
    out.dedup();
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with every known secret, bearer token, `sk-...` key and secret-named
/// `key=value` / `"key": "value"` pair masked by `***`.
pub fn redact_text(text: &str, secrets: &[String]) -> String {
    let mut s = text.to_string();
    for secret in secrets.iter().filter(|x| !x.is_empty()) {
        if s.contains(secret.as_str()) {
            s = s.replace(secret.as_str(), MASK);
        }
    }
    let s = mask_after(&s, "bearer ", true);
    let s = mask_after(&s, "basic ", true);
    let s = mask_sk_keys(&s);
    mask_named_values(&s)
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

/// Masks the token following each (ASCII case-insensitive) occurrence of `prefix`.
fn mask_after(s: &str, prefix: &str, ci: bool) -> String {
    let hay = if ci {
        s.to_ascii_lowercase()
    } else {
        s.to_string()
    };
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    while let Some(off) = hay[pos..].find(prefix) {
        let start = pos + off + prefix.len();
        out.push_str(&s[pos..start]);
        let len: usize = s[start..]
            .chars()
            .take_while(|&c| is_token_char(c))
            .map(char::len_utf8)
            .sum();
        if len > 0 && &s[start..start + len] != MASK {
            out.push_str(MASK);
        } else {
            out.push_str(&s[start..start + len]);
        }
        pos = start + len;
    }
    out.push_str(&s[pos..]);
    out
}

/// `sk-` (or `sk_`) followed by at least 6 key characters, as OpenAI-style keys look.
fn mask_sk_keys(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    let bytes = s.as_bytes();
    while let Some(off) = s[pos..].find("sk") {
        let at = pos + off;
        let boundary = at == 0 || !is_token_char(s[..at].chars().next_back().unwrap_or(' '));
        let sep = bytes.get(at + 2).copied();
        if boundary && matches!(sep, Some(b'-') | Some(b'_')) {
            let body: usize = s[at + 3..]
                .chars()
                .take_while(|&c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                .map(char::len_utf8)
                .sum();
            if body >= 6 {
                out.push_str(&s[pos..at]);
                out.push_str(MASK);
                pos = at + 3 + body;
                continue;
            }
        }
        out.push_str(&s[pos..at + 2]);
        pos = at + 2;
    }
    out.push_str(&s[pos..]);
    out
}

const SECRET_NAMES: [&str; 8] = [
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "authorization",
    "auth",
    "signature",
];

/// Values of `name=value`, `name: value` and `"name": "value"` whose name ends in a
/// secret-looking word (`api_key`, `access_token`, `password`, ...).
fn mask_named_values(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    let lower = s.to_ascii_lowercase();
    let mut i = 0;
    let b = s.as_bytes();
    while i < b.len() {
        // A name ends at i (exclusive) when b[i] is a separator.
        let c = b[i];
        if c == b'=' || c == b':' {
            // `"name":` and JSON-in-a-string `\"name\":` both name `name`.
            let mut name_end = i;
            while name_end > 0 && matches!(b[name_end - 1], b'"' | b'\\') {
                name_end -= 1;
            }
            let name_start = lower[..name_end]
                .rfind(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '-'))
                .map_or(0, |p| p + 1);
            let name = &lower[name_start..name_end];
            if SECRET_NAMES.iter().any(|n| name.ends_with(n)) && !name.is_empty() {
                let mut v = i + 1;
                while v < b.len() && b[v] == b' ' {
                    v += 1;
                }
                if v < b.len() && b[v] == b'\\' {
                    v += 1;
                }
                let quoted = v < b.len() && b[v] == b'"';
                let vstart = if quoted { v + 1 } else { v };
                let vlen = if quoted {
                    s[vstart..].find(['"', '\\']).unwrap_or(s.len() - vstart)
                } else {
                    s[vstart..]
                        .chars()
                        .take_while(|&ch| is_token_char(ch))
                        .map(char::len_utf8)
                        .sum()
                };
                let value = &s[vstart..vstart + vlen];
                let scheme =
                    value.eq_ignore_ascii_case("bearer") || value.eq_ignore_ascii_case("basic");
                if vlen > 0 && value != MASK && !scheme {
                    out.push_str(&s[pos..vstart]);
                    out.push_str(MASK);
                    pos = vstart + vlen;
                    i = pos;
                    continue;
                }
            }
        }
        i += 1;
    }
    out.push_str(&s[pos..]);
    out
}

/// At most `max` bytes of `s`, cut on a character boundary.
pub fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// An HTTP error body as shown in [`crate::BackendError::Http`]: secrets masked, then
/// cut to [`MAX_ERROR_BODY`] bytes (with `...` when cut).
pub fn redact_error_body(body: &[u8], secrets: &[String]) -> String {
    // Mask on a generous prefix first so a secret is never cut in half by the cap.
    let head = &body[..body.len().min(MAX_ERROR_BODY * 8)];
    let text = redact_text(&String::from_utf8_lossy(head), secrets);
    let cut = truncate_utf8(&text, MAX_ERROR_BODY);
    if cut.len() < text.len() || head.len() < body.len() {
        format!("{cut}...")
    } else {
        cut.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_userinfo_and_query_values() {
        assert_eq!(
            redact_url("http://user:hunter2@127.0.0.1:8000/v1?api_key=sekrit&x=1"),
            "http://***@127.0.0.1:8000/v1?api_key=***&x=***"
        );
        assert_eq!(redact_url("https://tok@h/v1"), "https://***@h/v1");
        assert_eq!(redact_url("http://h:8000/v1"), "http://h:8000/v1");
        assert_eq!(redact_url("http://h/a?sekrit"), "http://h/a?***");
        assert_eq!(redact_url("http://h/a#t=x"), "http://h/a#t=***");
        // An @ in the path is not userinfo.
        assert_eq!(redact_url("http://h/a@b"), "http://h/a@b");
        assert_eq!(
            url_secrets("http://u:p%40ssw0rd@h/?k=abcd"),
            vec!["abcd", "p%40ssw0rd", "p@ssw0rd"]
        );
    }

    #[test]
    fn text_masks_keys_tokens_and_named_values() {
        let body = r#"{"error":"bad key sk-abc123DEF456 in Authorization: Bearer eyJhbGciOi.x-y, api_key=zzz9 \"password\": \"pw-1\" mine"}"#;
        let r = redact_text(body, &["mine".into()]);
        for s in ["sk-abc123DEF456", "eyJhbGciOi", "zzz9", "pw-1", "mine"] {
            assert!(!r.contains(s), "{s} in {r}");
        }
        assert!(r.contains("Bearer ***") && r.contains("bad key"), "{r}");
        assert_eq!(
            redact_text("task-oriented skills", &[]),
            "task-oriented skills"
        );
    }

    #[test]
    fn error_bodies_are_capped_on_char_boundaries() {
        let body = "é".repeat(2000);
        let r = redact_error_body(body.as_bytes(), &[]);
        assert!(
            r.ends_with("...") && r.len() <= MAX_ERROR_BODY + 3,
            "{}",
            r.len()
        );
        assert_eq!(truncate_utf8("aé", 2), "a");
        assert_eq!(redact_error_body(b"short", &[]), "short");
    }
}
