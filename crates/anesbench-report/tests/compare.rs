//! Paired comparison on run directories built here.

use anesbench_core::{Lang, Level};
use anesbench_report::compare::{compare_runs, CompareOptions, ItemScoring};
use anesbench_report::fixture::{record, run_info};
use anesbench_report::rundir::write_run_dir;
use anesbench_report::RunDir;

fn run(root: &std::path::Path, name: &str, recs: &[anesbench_core::SampleRecord]) -> RunDir {
    let p = root.join(name);
    write_run_dir(&p, &run_info(name, None), recs, false).unwrap();
    RunDir::open(&p).unwrap()
}

/// 20 System 1 items: both right on 0..8, only A on 8..9, only B on 9..18, neither after.
fn pair(root: &std::path::Path) -> (RunDir, RunDir) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for i in 0..20u32 {
        let (ra, rb) = match i {
            0..=7 => (true, true),
            8 => (true, false),
            9..=17 => (false, true),
            _ => (false, false),
        };
        let id = i.to_string();
        a.push(record(
            &id,
            Lang::En,
            Level::S1,
            Some(if ra { 'A' } else { 'B' }),
            'A',
            10,
        ));
        b.push(record(
            &id,
            Lang::En,
            Level::S1,
            Some(if rb { 'A' } else { 'C' }),
            'A',
            10,
        ));
    }
    // An item only A has, which must not enter the comparison.
    a.push(record("extra", Lang::Zh, Level::S2, Some('A'), 'A', 10));
    (run(root, "a", &a), run(root, "b", &b))
}

#[test]
fn discordant_counts_mcnemar_and_bootstrap() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = pair(d.path());
    let opts = CompareOptions {
        resamples: 2000,
        seed: 7,
        scoring: ItemScoring::First,
        include_incomplete: false,
    };
    let c = compare_runs(&a, &b, &opts).unwrap();
    assert_eq!((c.shared_items, c.only_in_a, c.only_in_b), (20, 1, 0));
    let o = &c.overall;
    assert_eq!((o.only_a, o.only_b, o.both, o.neither), (1, 9, 8, 2));
    assert!((o.mcnemar_p - 0.021_484_375).abs() < 1e-15);
    assert!((o.diff - (-0.4)).abs() < 1e-12);
    assert!(
        o.ci_low < o.diff && o.diff < o.ci_high && o.ci_high < 0.0,
        "{o:?}"
    );
    assert_eq!(c.by_level.len(), 1);
    assert_eq!(c.by_level[0].slice, "system1");
    assert_eq!(c.by_level[0].only_b, 9);
    // Seeded: the same interval twice.
    let again = compare_runs(&a, &b, &opts).unwrap();
    assert_eq!(again.overall, c.overall);
    let swapped = compare_runs(&b, &a, &opts).unwrap();
    assert_eq!((swapped.overall.only_a, swapped.overall.only_b), (9, 1));
    assert!(c.to_text().contains("0.0215"), "{}", c.to_text());
}

#[test]
fn majority_vote_over_samples() {
    let d = tempfile::tempdir().unwrap();
    let mut a = Vec::new();
    for (s, ans) in [(0, 'B'), (1, 'A'), (2, 'A')] {
        let mut r = record("1", Lang::En, Level::S2, Some(ans), 'A', 10);
        r.sample = s;
        a.push(r);
    }
    let b = vec![record("1", Lang::En, Level::S2, Some('A'), 'A', 10)];
    let (ra, rb) = (run(d.path(), "a", &a), run(d.path(), "b", &b));
    let first = compare_runs(&ra, &rb, &CompareOptions::default()).unwrap();
    assert_eq!(first.overall.only_b, 1);
    let maj = compare_runs(
        &ra,
        &rb,
        &CompareOptions {
            scoring: ItemScoring::Majority,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(maj.overall.both, 1);
}

#[test]
fn refuses_no_shared_items_and_different_gold() {
    let d = tempfile::tempdir().unwrap();
    let a = run(
        d.path(),
        "a",
        &[record("1", Lang::En, Level::S1, Some('A'), 'A', 10)],
    );
    let b = run(
        d.path(),
        "b",
        &[record("1", Lang::Zh, Level::S1, Some('A'), 'A', 10)],
    );
    let e = compare_runs(&a, &b, &CompareOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("share no item"), "{e}");
    let c = run(
        d.path(),
        "c",
        &[record("1", Lang::En, Level::S1, Some('A'), 'B', 10)],
    );
    let e = compare_runs(&a, &c, &CompareOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("item en:1") && e.contains("gold answer A") && e.contains("but B"),
        "{e}"
    );
}
