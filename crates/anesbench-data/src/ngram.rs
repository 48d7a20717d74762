//! Normalised n-gram hashes: lowercase, punctuation dropped, whitespace collapsed; a token
//! is a word in alphabetic scripts and a single character in CJK scripts (Chinese has no
//! spaces, so characters are its words). An n-gram is a rolling hash of `n` token hashes,
//! so no text is copied.

/// SplitMix64 finaliser: spreads token and n-gram hashes over all 64 bits.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Characters that are one token each.
#[inline]
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // kana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // compatibility ideographs
        | 0x20000..=0x2FA1F) // extensions B.. and supplement
}

const FNV: u64 = 0x0000_0100_0000_01b3;
const SEED: u64 = 0xcbf2_9ce4_8422_2325;
/// Base of the rolling polynomial (odd, so multiplication is invertible mod 2^64).
const BASE: u64 = 0x9e37_79b9_7f4a_7c15;

/// Calls `f` with the hash of each normalised token of `text`, in order.
pub fn for_each_token(text: &str, mut f: impl FnMut(u64)) {
    let mut h = SEED;
    let mut in_word = false;
    for c in text.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                h = (h ^ c.to_ascii_lowercase() as u64).wrapping_mul(FNV);
                in_word = true;
                continue;
            }
        } else if is_cjk(c) {
            if in_word {
                f(mix(h));
                h = SEED;
                in_word = false;
            }
            f(mix((SEED ^ c as u64).wrapping_mul(FNV)));
            continue;
        } else if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                h = (h ^ l as u64).wrapping_mul(FNV);
            }
            in_word = true;
            continue;
        }
        // Punctuation and whitespace end a word and are otherwise dropped.
        if in_word {
            f(mix(h));
            h = SEED;
            in_word = false;
        }
    }
    if in_word {
        f(mix(h));
    }
}

/// Calls `f` with the hash of every n-gram of tokens in `text` (none if it has fewer than
/// `n` tokens).
pub fn for_each_ngram(text: &str, n: usize, mut f: impl FnMut(u64)) {
    assert!(n >= 1, "n-gram size must be at least 1");
    let base_n = (0..n).fold(1u64, |acc, _| acc.wrapping_mul(BASE));
    let mut ring = vec![0u64; n];
    let mut seen = 0usize;
    let mut h = 0u64;
    for_each_token(text, |t| {
        let slot = seen % n;
        let old = ring[slot];
        ring[slot] = t;
        h = h.wrapping_mul(BASE).wrapping_add(t);
        if seen >= n {
            h = h.wrapping_sub(old.wrapping_mul(base_n));
        }
        seen += 1;
        if seen >= n {
            f(mix(h ^ n as u64));
        }
    });
}

pub fn ngrams(text: &str, n: usize) -> Vec<u64> {
    let mut v = Vec::new();
    for_each_ngram(text, n, |g| v.push(g));
    v
}

pub fn token_count(text: &str) -> usize {
    let mut k = 0;
    for_each_token(text, |_| k += 1);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_ignores_case_punctuation_and_spacing() {
        let a = ngrams("The MAC of sevoflurane, in adults, is about 2%.", 3);
        let b = ngrams("the mac of   sevoflurane in adults\nis about 2", 3);
        assert_eq!(a, b);
        assert_eq!(
            a.len(),
            token_count("the mac of sevoflurane in adults is about 2") - 2
        );
    }

    #[test]
    fn rolling_hash_equals_fresh_hash_of_each_window() {
        let text = "one two three four five six seven eight";
        let rolled = ngrams(text, 3);
        let words: Vec<&str> = text.split(' ').collect();
        for (i, w) in words.windows(3).enumerate() {
            assert_eq!(rolled[i], ngrams(&w.join(" "), 3)[0], "window {i}");
        }
    }

    #[test]
    fn chinese_is_tokenised_by_character() {
        assert_eq!(token_count("丙泊酚诱导，血压下降"), 9);
        assert_eq!(token_count("静注 propofol 2mg/kg"), 5);
        let inner = ngrams("丙泊酚诱导血压下降", 4);
        let outer = ngrams("患者使用丙泊酚诱导血压下降明显", 4);
        assert!(inner.iter().all(|g| outer.contains(g)));
    }

    #[test]
    fn short_text_has_no_ngrams_and_different_text_differs() {
        assert!(ngrams("too short", 3).is_empty());
        assert_ne!(ngrams("a b c", 3), ngrams("a b d", 3));
    }
}
