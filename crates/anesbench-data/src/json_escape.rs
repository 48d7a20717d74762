//! A JSON string writer for the conversion hot path: the same bytes `serde_json` writes
//! for a `&str` (quotes, backslash, and control characters escaped; everything else,
//! non-ASCII included, copied as is), but clean runs are copied in bulk into one reused
//! buffer instead of going through a serializer per record.

/// What a byte becomes: 0 copied as is; `u` as `\u00XX`; any other letter as `\<letter>`.
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether any of the eight bytes of `w` is a control character, `"` or `\\` (the classic
/// "has a byte below n" / "has a zero byte" bit tricks, exact for presence).
#[inline]
fn needs_escape(w: u64) -> bool {
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let q = w ^ (ONES * b'"' as u64);
    let quote = q.wrapping_sub(ONES) & !q & HIGH;
    let bs = w ^ (ONES * b'\\' as u64);
    let backslash = bs.wrapping_sub(ONES) & !bs & HIGH;
    (below_space | quote | backslash) != 0
}

/// Append `s` as a quoted JSON string.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Worst case is six bytes per input byte; reserving the common case (few escapes)
    // keeps the bulk copies from reallocating.
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip eight clean bytes at a time; most text has no byte to escape.
        if i + 8 <= bytes.len() {
            let w = u64::from_le_bytes(bytes[i..i + 8].try_into().expect("eight bytes"));
            if !needs_escape(w) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let e = ESCAPE[b as usize];
        i += 1;
        if e == 0 {
            continue;
        }
        let at = i - 1;
        out.extend_from_slice(&bytes[start..at]);
        if e == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', e]);
        }
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(s: &str) -> String {
        let mut v = Vec::new();
        push_str(&mut v, s);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn matches_serde_json_for_every_ascii_byte_and_unicode() {
        let mut all = String::new();
        for b in 0u8..0x80 {
            all.push(b as char);
        }
        let cases = [
            all.as_str(),
            "",
            "plain text",
            "quote \" and backslash \\ at \"the end\"",
            "\u{7f}\u{80}\u{2028}\u{2029} é 麻醉 🩺",
            "\n\r\t\u{0}\u{1f}trailing\\",
        ];
        for s in cases {
            assert_eq!(ours(s), serde_json::to_string(s).unwrap(), "for {s:?}");
        }
    }

    #[test]
    fn finds_escapes_at_every_offset_of_the_word_scan() {
        for special in [
            '"', '\\', '\n', '\u{1}', '\u{1f}', ' ', '!', '#', '[', ']', '~', '\u{7f}', 'é',
        ] {
            for len in 0..20 {
                for at in 0..=len {
                    let mut s: String = "a".repeat(len);
                    s.insert(at, special);
                    assert_eq!(ours(&s), serde_json::to_string(&s).unwrap(), "for {s:?}");
                }
            }
        }
    }
}
