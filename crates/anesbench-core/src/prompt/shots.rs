//! Choosing worked examples for k-shot prompts from a separate pool, deterministically.

use std::collections::HashSet;

use crate::item::Item;

/// Up to `k` worked examples for `item` from `pool`, in pool order.
///
/// Only same-language pool items are used, and never the item itself (same id, or the same
/// question text, which catches a copy of the item under another id). The first pass takes
/// items whose gold letter is not yet shown, so the examples do not all answer `A` and teach
/// the model a letter; a second pass fills up in pool order. Same inputs, same shots.
pub fn select_shots(item: &Item, pool: &[Item], k: usize) -> Vec<Item> {
    let eligible: Vec<&Item> = pool
        .iter()
        .filter(|p| p.lang == item.lang && !same_question(item, p))
        .collect();
    let mut chosen: Vec<usize> = Vec::with_capacity(k);
    let mut letters = HashSet::new();
    for (i, p) in eligible.iter().enumerate() {
        if chosen.len() == k {
            break;
        }
        if letters.insert(p.answer) {
            chosen.push(i);
        }
    }
    for i in 0..eligible.len() {
        if chosen.len() == k {
            break;
        }
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    // Keep pool order in the prompt, whichever pass picked an example.
    chosen.sort_unstable();
    chosen.into_iter().map(|i| eligible[i].clone()).collect()
}

/// Whether `shot` is `item` itself (by id, or by question text after trimming).
pub(crate) fn same_question(item: &Item, shot: &Item) -> bool {
    (shot.id == item.id && shot.lang == item.lang) || shot.question.trim() == item.question.trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use crate::item::Lang;

    #[test]
    fn never_selects_the_item_and_stays_in_language() {
        let pool = demo::items();
        for item in &pool {
            let shots = select_shots(item, &pool, 5);
            assert_eq!(shots.len(), 5);
            assert!(
                shots.iter().all(|s| s.lang == item.lang && s.id != item.id),
                "{}",
                item.key()
            );
        }
    }

    #[test]
    fn is_deterministic_and_spreads_gold_letters() {
        let pool = demo::items_for(Lang::En);
        let item = &pool[10];
        let a = select_shots(item, &pool, 4);
        let b = select_shots(item, &pool, 4);
        assert_eq!(a, b);
        let letters: HashSet<char> = a.iter().map(|s| s.answer).collect();
        assert_eq!(
            letters.len(),
            4,
            "{:?}",
            a.iter().map(|s| (&s.id, s.answer)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn copy_under_another_id_is_excluded_and_small_pools_give_fewer() {
        let pool = demo::items_for(Lang::Zh);
        let mut item = pool[0].clone();
        item.id = "other-source-7".into();
        let shots = select_shots(&item, &pool[..3], 3);
        assert_eq!(shots.len(), 2);
        assert!(shots.iter().all(|s| s.question != item.question));
        assert!(select_shots(&item, &pool, 0).is_empty());
    }
}
