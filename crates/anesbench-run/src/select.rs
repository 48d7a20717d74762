//! Which items a run covers: language and level filters, then `--limit`, then `--shard`.
//! The limit comes before the shard so the shards of a limited run add up to it.

use anesbench_core::Item;

use crate::settings::Settings;

pub fn select(items: &[Item], s: &Settings) -> Vec<Item> {
    let kept = items
        .iter()
        .filter(|it| s.lang.is_empty() || s.lang.contains(&it.lang))
        .filter(|it| s.level.is_empty() || s.level.contains(&it.level))
        .take(s.limit.unwrap_or(usize::MAX));
    match s.shard {
        Some(shard) => kept
            .filter(|it| shard.contains(&it.key()))
            .cloned()
            .collect(),
        None => kept.cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::Shard;
    use anesbench_core::{Lang, Level};

    fn item(i: usize) -> Item {
        Item {
            id: i.to_string(),
            lang: if i.is_multiple_of(2) {
                Lang::En
            } else {
                Lang::Zh
            },
            level: Level::ALL[i % 3],
            question: format!("q{i}"),
            options: vec!["a".into(), "b".into()],
            answer: 'A',
            rationale: None,
            extra: Default::default(),
        }
    }

    #[test]
    fn filters_limit_then_shards_partition_the_limited_set() {
        let items: Vec<Item> = (0..300).map(item).collect();
        let base = Settings {
            lang: vec![Lang::En],
            level: vec![Level::S1, Level::S2],
            limit: Some(50),
            ..Settings::default()
        };
        let all = select(&items, &base);
        assert_eq!(all.len(), 50);
        assert!(all
            .iter()
            .all(|i| i.lang == Lang::En && i.level != Level::S1x));
        let mut union: Vec<String> = (1..=3)
            .flat_map(|k| {
                select(
                    &items,
                    &Settings {
                        shard: Some(Shard { index: k, count: 3 }),
                        ..base.clone()
                    },
                )
            })
            .map(|i| i.key())
            .collect();
        union.sort();
        let mut want: Vec<String> = all.iter().map(Item::key).collect();
        want.sort();
        assert_eq!(union, want);
    }
}
