//! Byte spans of top-level string fields in one JSON line, without decoding it: the
//! index keeps where `response` and `reasoning` sit in the file, so a search reads those
//! bytes only, and never the ids, rule names or endpoints that share the line.

/// Call `f(key, value_start, value_end)` for every top-level field of a JSON object line
/// (the key still escaped, the value range including its quotes). Values are skipped with
/// `memchr`, not decoded. Returns false when the line is not a well-formed object at the
/// top level.
pub fn for_each_field(line: &[u8], mut f: impl FnMut(&[u8], usize, usize)) -> bool {
    let mut i = skip_ws(line, 0);
    if line.get(i) != Some(&b'{') {
        return false;
    }
    i = skip_ws(line, i + 1);
    if line.get(i) == Some(&b'}') {
        return skip_ws(line, i + 1) == line.len();
    }
    loop {
        if line.get(i) != Some(&b'"') {
            return false;
        }
        let Some(key_end) = string_end(line, i) else {
            return false;
        };
        let key = &line[i + 1..key_end - 1];
        i = skip_ws(line, key_end);
        if line.get(i) != Some(&b':') {
            return false;
        }
        i = skip_ws(line, i + 1);
        let start = i;
        let Some(end) = value_end(line, i) else {
            return false;
        };
        if end == start {
            return false;
        }
        f(key, start, end);
        i = skip_ws(line, end);
        match line.get(i) {
            Some(b',') => i = skip_ws(line, i + 1),
            Some(b'}') => return skip_ws(line, i + 1) == line.len(),
            _ => return false,
        }
    }
}

/// Content span (between the quotes, still JSON-escaped) of each named top-level field
/// whose value is a string; `None` for a missing field, `null`, or anything else.
pub fn string_fields<const N: usize>(
    line: &[u8],
    names: [&[u8]; N],
) -> [Option<(usize, usize)>; N] {
    let mut out = [None; N];
    let mut i = skip_ws(line, 0);
    if line.get(i) != Some(&b'{') {
        return out;
    }
    i += 1;
    loop {
        i = skip_ws(line, i);
        match line.get(i) {
            Some(b'"') => {}
            _ => return out,
        }
        let Some(key_end) = string_end(line, i) else {
            return out;
        };
        let key = &line[i + 1..key_end - 1];
        i = skip_ws(line, key_end);
        if line.get(i) != Some(&b':') {
            return out;
        }
        i = skip_ws(line, i + 1);
        let start = i;
        let Some(end) = value_end(line, i) else {
            return out;
        };
        if line[start] == b'"' {
            if let Some(k) = names.iter().position(|n| *n == key) {
                out[k] = Some((start + 1, end - 1));
            }
        }
        i = skip_ws(line, end);
        match line.get(i) {
            Some(b',') => i += 1,
            _ => return out,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// `b[i]` is `"`: index just past the closing quote.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', &b[j..])?;
        if b[k] == b'\\' {
            j = k + 2;
            if j > b.len() {
                return None;
            }
        } else {
            return Some(k + 1);
        }
    }
}

/// Index just past the value starting at `b[i]`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
            {
                j += 1;
            }
            Some(j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_string_fields_past_nested_values_and_escapes() {
        let line = br#"{"id":"1","x":{"a":["}\"",1]},"response":"he said \"B\" \\","n":null,"reasoning":null}"#;
        let [r, z] = string_fields(line, [b"response", b"reasoning"]);
        let (s, e) = r.unwrap();
        assert_eq!(&line[s..e], br#"he said \"B\" \\"#);
        assert!(z.is_none());
    }

    #[test]
    fn chinese_text_is_raw_utf8() {
        let line =
            serde_json::to_vec(&serde_json::json!({"response": "答案是 B", "k": 1})).unwrap();
        let [r] = string_fields(&line, [b"response"]);
        let (s, e) = r.unwrap();
        assert_eq!(std::str::from_utf8(&line[s..e]).unwrap(), "答案是 B");
    }
}
