//! Option-order permutations (`--permute`): which orders an item is asked in, the item as
//! displayed in one order, and the way back from a displayed letter to the original one.
//!
//! A permutation is written as the original letters in displayed order: `"CABD"` shows
//! original option C first (as `A`), then A (as `B`), and so on. Order 0 is always the
//! original order, so a permuted run's sample 0 is what an unpermuted run asks.
//!
//! - **circular** (OpenCompass CircularEval): the item is asked once per rotation,
//!   `choice_num` times; rotation `k` shows original option `(i + k) mod n` at position
//!   `i` (`ABCD`, `BCDA`, `CDAB`, `DABC`), so the gold answer stands at every position once.
//! - **shuffle:K:SEED**: K orders, the original one first, then K-1 seeded shuffles
//!   (Fisher-Yates driven by SplitMix64, seeded from SEED and the item id, so the same id
//!   gets the same orders in both languages and on every machine).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::item::{letter, letter_index, Item};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Permute {
    /// Every rotation of the options (CircularEval).
    Circular,
    /// `k` orders: the original, then `k - 1` seeded shuffles.
    Shuffle { k: u32, seed: u64 },
}

impl Permute {
    /// The orders item `id` with `n` options is asked in: each is the original option
    /// index at each displayed position. Order 0 is the identity.
    pub fn orders(self, id: &str, n: usize) -> Vec<Vec<usize>> {
        match self {
            Permute::Circular => (0..n)
                .map(|k| (0..n).map(|i| (i + k) % n).collect())
                .collect(),
            Permute::Shuffle { k, seed } => {
                let mut rng = SplitMix64(seed ^ fnv1a(id.as_bytes()));
                let mut out = vec![(0..n).collect::<Vec<_>>()];
                for _ in 1..k {
                    let mut p: Vec<usize> = (0..n).collect();
                    for i in (1..n).rev() {
                        let j = (rng.next() % (i as u64 + 1)) as usize;
                        p.swap(i, j);
                    }
                    out.push(p);
                }
                out
            }
        }
    }
}

impl fmt::Display for Permute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Permute::Circular => write!(f, "circular"),
            Permute::Shuffle { k, seed } => write!(f, "shuffle:{k}:{seed}"),
        }
    }
}

impl FromStr for Permute {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hint = "expected `circular` or `shuffle:K:SEED` (K >= 2 orders, SEED a whole number)";
        let t = s.trim().to_ascii_lowercase();
        let parts: Vec<&str> = t.split(':').collect();
        match parts.as_slice() {
            ["circular"] => Ok(Permute::Circular),
            ["shuffle", k, seed] => {
                let k = k.parse::<u32>().ok().filter(|&k| k >= 2).ok_or_else(|| {
                    format!("`{s}`: K must be a whole number of at least 2; {hint}")
                })?;
                let seed = seed
                    .parse::<u64>()
                    .map_err(|_| format!("`{s}`: SEED must be a whole number; {hint}"))?;
                Ok(Permute::Shuffle { k, seed })
            }
            _ => Err(format!("unknown permutation `{s}`; {hint}")),
        }
    }
}

impl TryFrom<String> for Permute {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Permute> for String {
    fn from(p: Permute) -> String {
        p.to_string()
    }
}

/// `[2, 0, 1, 3]` -> `"CABD"`.
pub fn perm_string(order: &[usize]) -> String {
    order.iter().map(|&i| letter(i)).collect()
}

/// The item as displayed in `order`: options reordered, the gold answer moved with its
/// option.
pub fn apply(item: &Item, order: &[usize]) -> Item {
    let gold = letter_index(item.answer).unwrap_or(0);
    let options = order
        .iter()
        .map(|&i| item.options.get(i).cloned().unwrap_or_default())
        .collect();
    let answer = order
        .iter()
        .position(|&i| i == gold)
        .map_or(item.answer, letter);
    Item {
        options,
        answer,
        ..item.clone()
    }
}

/// Original letter of the option shown at displayed letter `shown` under `perm`.
pub fn to_original(perm: &str, shown: char) -> Option<char> {
    letter_index(shown).and_then(|i| perm.chars().nth(i))
}

/// Displayed letter of original letter `original` under `perm`.
pub fn to_displayed(perm: &str, original: char) -> Option<char> {
    perm.chars().position(|c| c == original).map(letter)
}

/// Option texts in displayed order (for re-extraction of a stored permuted response).
pub fn displayed_options(options: &[String], perm: &str) -> Vec<String> {
    perm.chars()
        .map(|c| {
            letter_index(c)
                .and_then(|i| options.get(i).cloned())
                .unwrap_or_default()
        })
        .collect()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{Lang, Level};

    fn item() -> Item {
        Item {
            id: "q1".into(),
            lang: Lang::En,
            level: Level::S1,
            question: "?".into(),
            options: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            answer: 'B',
            rationale: None,
            extra: Default::default(),
        }
    }

    #[test]
    fn circular_puts_gold_at_every_position_once() {
        let orders = Permute::Circular.orders("q1", 4);
        let perms: Vec<String> = orders.iter().map(|o| perm_string(o)).collect();
        assert_eq!(perms, ["ABCD", "BCDA", "CDAB", "DABC"]);
        let golds: Vec<char> = orders.iter().map(|o| apply(&item(), o).answer).collect();
        assert_eq!(golds, ['B', 'A', 'D', 'C']);
        let shown = apply(&item(), &orders[1]);
        assert_eq!(shown.options, ["b", "c", "d", "a"]);
        // Picking displayed A under BCDA is original B.
        assert_eq!(to_original("BCDA", 'A'), Some('B'));
        assert_eq!(to_displayed("BCDA", 'B'), Some('A'));
        assert_eq!(displayed_options(&item().options, "BCDA"), shown.options);
    }

    #[test]
    fn shuffle_is_seeded_starts_with_identity_and_permutes() {
        let p: Permute = "shuffle:5:7".parse().unwrap();
        let a = p.orders("q1", 5);
        assert_eq!(a.len(), 5);
        assert_eq!(a[0], vec![0, 1, 2, 3, 4]);
        assert_eq!(a, p.orders("q1", 5));
        assert_ne!(a, Permute::Shuffle { k: 5, seed: 8 }.orders("q1", 5));
        for o in &a {
            let mut s = o.clone();
            s.sort();
            assert_eq!(s, vec![0, 1, 2, 3, 4]);
        }
        assert!(a[1..].iter().any(|o| o != &a[0]));
    }

    #[test]
    fn parse_names_the_problem() {
        assert_eq!("circular".parse::<Permute>().unwrap(), Permute::Circular);
        assert!("shuffle:1:3"
            .parse::<Permute>()
            .unwrap_err()
            .contains("K must"));
        assert!("shuffle:3:x"
            .parse::<Permute>()
            .unwrap_err()
            .contains("SEED"));
        assert!("rotate".parse::<Permute>().is_err());
        let s = serde_json::to_string(&Permute::Shuffle { k: 3, seed: 9 }).unwrap();
        assert_eq!(s, "\"shuffle:3:9\"");
    }
}
