//! Deterministic sharding: `--shard i/n` keeps the items whose key hashes to slice `i`.
//!
//! The hash is SHA-256 of `lang:id`, so every machine computes the same slices whatever
//! the order of the source file or the platform.
//!
//! Under a scheduler, `--shard auto` ([`ShardSpec::Auto`]) takes `i/n` from the
//! environment: a Slurm job array (`SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT`, or
//! with `SLURM_ARRAY_TASK_MIN` / `SLURM_ARRAY_TASK_MAX` and the optional
//! `SLURM_ARRAY_TASK_STEP`) or a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, 0-based,
//! with the count from `--shard auto/N` or `ANESBENCH_SHARD_COUNT`). See docs/SCHEDULERS.md.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Slice `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Slice (0-based) that an item key (`Item::key()`, `lang:id`) falls in, out of `count`.
    pub fn slice_of(key: &str, count: u32) -> u32 {
        let digest = Sha256::digest(key.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32
    }

    pub fn contains(&self, key: &str) -> bool {
        Shard::slice_of(key, self.count) == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hint = "expected `i/n` with 1 <= i <= n, e.g. `--shard 2/4`";
        let (i, n) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("`{s}`: {hint}"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("`{s}`: shard index `{i}` is not a number; {hint}"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{s}`: shard count `{n}` is not a number; {hint}"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!("`{s}`: {hint}"));
        }
        Ok(Shard { index, count })
    }
}

impl TryFrom<String> for Shard {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Shard> for String {
    fn from(s: Shard) -> String {
        s.to_string()
    }
}

/// Slurm: the task's index in its job array (`sbatch --array=...`).
pub const SLURM_ARRAY_TASK_ID: &str = "SLURM_ARRAY_TASK_ID";
/// Slurm: the number of tasks in the job array.
pub const SLURM_ARRAY_TASK_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
/// Slurm: the lowest task id of the job array.
pub const SLURM_ARRAY_TASK_MIN: &str = "SLURM_ARRAY_TASK_MIN";
/// Slurm: the highest task id of the job array.
pub const SLURM_ARRAY_TASK_MAX: &str = "SLURM_ARRAY_TASK_MAX";
/// Slurm: the step of the job array (`--array=0-15:2`); 1 when absent.
pub const SLURM_ARRAY_TASK_STEP: &str = "SLURM_ARRAY_TASK_STEP";
/// Kubernetes Indexed Job: the pod's completion index, 0-based.
pub const JOB_COMPLETION_INDEX: &str = "JOB_COMPLETION_INDEX";
/// The shard count for a Kubernetes Indexed Job (its `completions`), when `--shard auto/N`
/// does not give it.
pub const ANESBENCH_SHARD_COUNT: &str = "ANESBENCH_SHARD_COUNT";

/// What `--shard` asks for: a fixed slice `i/n`, or `auto` / `auto/N`, which
/// [`ShardSpec::resolve`] turns into a concrete [`Shard`] from the scheduler's environment
/// (Slurm job array or Kubernetes Indexed Job). Runs always record the concrete shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ShardSpec {
    /// `i/n`, given outright.
    Fixed(Shard),
    /// `auto` (count `None`) or `auto/N`: the index, and the count unless given, come from
    /// the environment.
    Auto { count: Option<u32> },
}

impl From<Shard> for ShardSpec {
    fn from(s: Shard) -> Self {
        ShardSpec::Fixed(s)
    }
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShardSpec::Fixed(s) => write!(f, "{s}"),
            ShardSpec::Auto { count: None } => f.write_str("auto"),
            ShardSpec::Auto { count: Some(n) } => write!(f, "auto/{n}"),
        }
    }
}

impl FromStr for ShardSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hint = "expected `i/n` with 1 <= i <= n (e.g. `--shard 2/4`), or `auto` / `auto/N` \
                    to take the slice from a Slurm job array or a Kubernetes Indexed Job";
        let t = s.trim();
        let (head, tail) = match t.split_once('/') {
            Some((h, n)) => (h.trim(), Some(n.trim())),
            None => (t, None),
        };
        if !head.eq_ignore_ascii_case("auto") {
            return match tail {
                None => Err(format!("`{s}`: {hint}")),
                Some(_) => t
                    .parse::<Shard>()
                    .map(ShardSpec::Fixed)
                    .map_err(|_| shard_error(s, head, tail, hint)),
            };
        }
        let count = match tail {
            None => None,
            Some(n) => match n.parse::<u32>() {
                Ok(0) => return Err(format!("`{s}`: the shard count must be at least 1; {hint}")),
                Ok(c) => Some(c),
                Err(_) => return Err(format!("`{s}`: shard count `{n}` is not a number; {hint}")),
            },
        };
        Ok(ShardSpec::Auto { count })
    }
}

/// The most specific complaint about a bad `i/n`.
fn shard_error(s: &str, i: &str, n: Option<&str>, hint: &str) -> String {
    let n = n.unwrap_or("");
    if i.parse::<u32>().is_err() {
        format!("`{s}`: shard index `{i}` is not a number; {hint}")
    } else if n.parse::<u32>().is_err() {
        format!("`{s}`: shard count `{n}` is not a number; {hint}")
    } else {
        format!("`{s}`: {hint}")
    }
}

impl TryFrom<String> for ShardSpec {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ShardSpec> for String {
    fn from(s: ShardSpec) -> String {
        s.to_string()
    }
}

impl ShardSpec {
    pub fn is_auto(&self) -> bool {
        matches!(self, ShardSpec::Auto { .. })
    }

    /// The concrete shard. `Fixed` is returned as is; `Auto` reads `env` (a variable's
    /// value, `None` when unset; an empty value counts as unset):
    ///
    /// - Slurm: `SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_MIN` and `SLURM_ARRAY_TASK_MAX`
    ///   (and `SLURM_ARRAY_TASK_STEP`, default 1): index `(id - min) / step + 1`, count
    ///   `(max - min) / step + 1`; `SLURM_ARRAY_TASK_COUNT`, when also set, must agree (a
    ///   list array such as `--array=1,4,9` does not). With only `SLURM_ARRAY_TASK_COUNT`,
    ///   ids are taken to run `0..COUNT-1`.
    /// - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (0-based) + 1, of the count given
    ///   as `auto/N` or in `ANESBENCH_SHARD_COUNT` (which must agree when both are given).
    ///
    /// A count given with `auto/N` (or `ANESBENCH_SHARD_COUNT`) must match Slurm's. Both
    /// schedulers' variables set is an error unless they name the same shard; neither set is
    /// an error naming the variables looked for. Every error is a sentence for the user.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let given = match *self {
            ShardSpec::Fixed(s) => return Ok(s),
            ShardSpec::Auto { count } => count,
        };
        let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let given = given_count(self, given, &env)?;
        let slurm = slurm_shard(&env)?;
        let k8s = k8s_shard(&env, given.as_ref())?;
        if let (Some(s), Some((from, n))) = (slurm, &given) {
            if s.count != *n {
                return Err(format!(
                    "`--shard {self}`: the Slurm job array has {} tasks but {from} says {n} \
                     shards; make them agree (or use plain `--shard auto` under Slurm)",
                    s.count
                ));
            }
        }
        match (slurm, k8s) {
            (Some(s), Some(k)) if s == k => Ok(s),
            (Some(s), Some(k)) => Err(format!(
                "`--shard {self}` is ambiguous: the Slurm variables give shard {s} \
                 ({SLURM_ARRAY_TASK_ID}={}) but the Kubernetes ones give {k} \
                 ({JOB_COMPLETION_INDEX}={}); unset one set or give `--shard i/n`",
                env(SLURM_ARRAY_TASK_ID).unwrap_or_default().trim(),
                env(JOB_COMPLETION_INDEX).unwrap_or_default().trim(),
            )),
            (Some(s), None) | (None, Some(s)) => Ok(s),
            (None, None) => {
                let mut msg = format!(
                    "`--shard {self}` found no scheduler: it looks for {SLURM_ARRAY_TASK_ID} \
                     (with {SLURM_ARRAY_TASK_COUNT}, or {SLURM_ARRAY_TASK_MIN} and \
                     {SLURM_ARRAY_TASK_MAX}) from a Slurm job array, or {JOB_COMPLETION_INDEX} \
                     (with `--shard auto/N` or {ANESBENCH_SHARD_COUNT}) from a Kubernetes \
                     Indexed Job, and neither is set."
                );
                if env("SLURM_JOB_ID").is_some() {
                    msg.push_str(
                        " (SLURM_JOB_ID is set, but this job is not an array task: submit \
                         it with `sbatch --array=0-N`.)",
                    );
                }
                msg.push_str(" Outside a scheduler, name the slice: `--shard i/n`.");
                Err(msg)
            }
        }
    }

    /// [`ShardSpec::resolve`] against this process's environment.
    pub fn resolve_from_process_env(&self) -> Result<Shard, String> {
        self.resolve(&|k| std::env::var(k).ok())
    }
}

/// A whole number from variable `name`, `None` when unset.
fn number(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Result<Option<u64>, String> {
    match env(name) {
        None => Ok(None),
        Some(v) => {
            v.trim().parse::<u64>().map(Some).map_err(|_| {
                format!("`--shard auto`: {name}=`{v}` is not a whole number (0 or more)")
            })
        }
    }
}

fn to_u32(n: u64, what: &str) -> Result<u32, String> {
    u32::try_from(n).map_err(|_| format!("`--shard auto`: {what} {n} is too large"))
}

/// The count the user gave (`auto/N` and/or `ANESBENCH_SHARD_COUNT`), with where it came from.
fn given_count(
    spec: &ShardSpec,
    flag: Option<u32>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(String, u32)>, String> {
    let var = match number(env, ANESBENCH_SHARD_COUNT)? {
        Some(0) => {
            return Err(format!(
                "`--shard auto`: {ANESBENCH_SHARD_COUNT}=0; the shard count must be at least 1"
            ))
        }
        Some(n) => Some(to_u32(n, ANESBENCH_SHARD_COUNT)?),
        None => None,
    };
    match (flag, var) {
        (Some(f), Some(v)) if f != v => Err(format!(
            "`--shard {spec}` says {f} shards but {ANESBENCH_SHARD_COUNT}={v}; make them agree"
        )),
        (Some(f), _) => Ok(Some((format!("`--shard {spec}`"), f))),
        (None, Some(v)) => Ok(Some((format!("{ANESBENCH_SHARD_COUNT}={v}"), v))),
        (None, None) => Ok(None),
    }
}

/// The shard of this Slurm array task, `None` outside a job array.
fn slurm_shard(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Shard>, String> {
    let Some(id) = number(env, SLURM_ARRAY_TASK_ID)? else {
        return Ok(None);
    };
    let listed = number(env, SLURM_ARRAY_TASK_COUNT)?;
    let min = number(env, SLURM_ARRAY_TASK_MIN)?;
    let max = number(env, SLURM_ARRAY_TASK_MAX)?;
    let step = number(env, SLURM_ARRAY_TASK_STEP)?.unwrap_or(1);
    let (index, count) = match (min, max) {
        (Some(min), Some(max)) => {
            if step == 0 {
                return Err(format!(
                    "`--shard auto`: {SLURM_ARRAY_TASK_STEP}=0; a job array's step is at least 1"
                ));
            }
            if min > max {
                return Err(format!(
                    "`--shard auto`: {SLURM_ARRAY_TASK_MIN}={min} is above \
                     {SLURM_ARRAY_TASK_MAX}={max}"
                ));
            }
            if id < min || id > max || (id - min) % step != 0 {
                return Err(format!(
                    "`--shard auto`: {SLURM_ARRAY_TASK_ID}={id} is not a task of the array \
                     {min}-{max}:{step} ({SLURM_ARRAY_TASK_MIN}, {SLURM_ARRAY_TASK_MAX}, \
                     {SLURM_ARRAY_TASK_STEP})"
                ));
            }
            let index = (id - min) / step + 1;
            let count = (max - min) / step + 1;
            if let Some(listed) = listed {
                if listed != count {
                    return Err(format!(
                        "`--shard auto`: the Slurm array {min}-{max}:{step} spans {count} task \
                         ids but {SLURM_ARRAY_TASK_COUNT}={listed}; `--shard auto` needs an \
                         evenly spaced array (`--array=0-N` or `--array=0-N:STEP`), not a \
                         list such as `--array=1,4,9`; or give `--shard i/n`"
                    ));
                }
            }
            (index, count)
        }
        (None, None) => match listed {
            Some(0) => {
                return Err(format!(
                    "`--shard auto`: {SLURM_ARRAY_TASK_COUNT}=0; a job array has at least 1 task"
                ))
            }
            Some(count) if id < count => (id + 1, count),
            Some(count) => {
                return Err(format!(
                    "`--shard auto`: {SLURM_ARRAY_TASK_ID}={id} is out of range for \
                     {SLURM_ARRAY_TASK_COUNT}={count} (without {SLURM_ARRAY_TASK_MIN} and \
                     {SLURM_ARRAY_TASK_MAX}, ids are taken to run 0..{})",
                    count - 1
                ))
            }
            None => {
                return Err(format!(
                    "`--shard auto`: {SLURM_ARRAY_TASK_ID}={id} is set but the array's size is \
                     not: neither {SLURM_ARRAY_TASK_COUNT} nor {SLURM_ARRAY_TASK_MIN} and \
                     {SLURM_ARRAY_TASK_MAX} are set"
                ))
            }
        },
        (Some(_), None) | (None, Some(_)) => {
            let missing = if min.is_none() {
                SLURM_ARRAY_TASK_MIN
            } else {
                SLURM_ARRAY_TASK_MAX
            };
            return Err(format!(
                "`--shard auto`: {SLURM_ARRAY_TASK_MIN} and {SLURM_ARRAY_TASK_MAX} go together, \
                 but {missing} is not set"
            ));
        }
    };
    Ok(Some(Shard {
        index: to_u32(index, "Slurm array index")?,
        count: to_u32(count, "Slurm array size")?,
    }))
}

/// The shard of this Kubernetes Indexed Job pod, `None` outside one.
fn k8s_shard(
    env: &dyn Fn(&str) -> Option<String>,
    given: Option<&(String, u32)>,
) -> Result<Option<Shard>, String> {
    let Some(i) = number(env, JOB_COMPLETION_INDEX)? else {
        return Ok(None);
    };
    let Some(&(ref from, count)) = given else {
        return Err(format!(
            "`--shard auto`: {JOB_COMPLETION_INDEX}={i} is set (a Kubernetes Indexed Job) but \
             the shard count is not: give `--shard auto/N` or set {ANESBENCH_SHARD_COUNT} to \
             the Job's `completions`"
        ));
    };
    if i >= u64::from(count) {
        return Err(format!(
            "`--shard auto`: {JOB_COMPLETION_INDEX}={i} is out of range for {count} shards \
             (from {from}; indices run 0..{}); set the Job's `completions` to the shard count",
            count - 1
        ));
    }
    Ok(Some(Shard {
        index: i as u32 + 1,
        count,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(
            "2/4".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 4 }
        );
        for bad in ["0/4", "5/4", "1/0", "a/2", "3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_key_is_in_exactly_one_shard_and_slices_are_balanced() {
        let n = 4;
        let mut counts = [0u32; 4];
        for i in 0..4000 {
            let key = format!("en:{i}");
            let hits: Vec<u32> = (1..=n)
                .filter(|&s| Shard { index: s, count: n }.contains(&key))
                .collect();
            assert_eq!(hits.len(), 1, "{key}");
            counts[(hits[0] - 1) as usize] += 1;
        }
        for c in counts {
            assert!((850..1150).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn slices_are_stable() {
        // Pinned so a change of hash (which would split published shard runs
        // differently) fails here first.
        let got: Vec<u32> = ["en:1", "zh:1", "en:abc"]
            .iter()
            .map(|k| Shard::slice_of(k, 7))
            .collect();
        assert_eq!(got, PINNED);
    }
    const PINNED: [u32; 3] = [2, 3, 3];

    /// A fake environment holding exactly `vars`.
    fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn auto() -> ShardSpec {
        ShardSpec::Auto { count: None }
    }

    fn auto_n(n: u32) -> ShardSpec {
        ShardSpec::Auto { count: Some(n) }
    }

    fn sh(index: u32, count: u32) -> Shard {
        Shard { index, count }
    }

    fn ok(spec: ShardSpec, vars: &[(&str, &str)]) -> Shard {
        spec.resolve(&env_of(vars))
            .unwrap_or_else(|e| panic!("{spec} with {vars:?}: {e}"))
    }

    fn err(spec: ShardSpec, vars: &[(&str, &str)]) -> String {
        match spec.resolve(&env_of(vars)) {
            Ok(s) => panic!("{spec} with {vars:?} resolved to {s}, expected an error"),
            Err(e) => e,
        }
    }

    fn has_all(msg: &str, parts: &[&str]) {
        for p in parts {
            assert!(msg.contains(p), "`{p}` missing from: {msg}");
        }
    }

    #[test]
    fn spec_parses_fixed_auto_and_auto_n_and_displays_back() {
        for (text, want, shown) in [
            ("2/4", ShardSpec::Fixed(sh(2, 4)), "2/4"),
            (" 1 / 1 ", ShardSpec::Fixed(sh(1, 1)), "1/1"),
            ("auto", auto(), "auto"),
            ("AUTO", auto(), "auto"),
            ("auto/8", auto_n(8), "auto/8"),
            (" auto / 3 ", auto_n(3), "auto/3"),
        ] {
            let got: ShardSpec = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(got, want, "{text}");
            assert_eq!(got.to_string(), shown);
            assert_eq!(shown.parse::<ShardSpec>().unwrap(), want);
        }
        assert!(auto_n(2).is_auto() && !ShardSpec::Fixed(sh(1, 2)).is_auto());
        assert_eq!(ShardSpec::from(sh(3, 5)), ShardSpec::Fixed(sh(3, 5)));
    }

    #[test]
    fn spec_rejects_bad_text_with_a_hint_naming_both_forms() {
        for (bad, says) in [
            ("auto/0", "at least 1"),
            ("auto/x", "shard count `x` is not a number"),
            ("auto/", "shard count `` is not a number"),
            ("automatic", "expected `i/n`"),
            ("3", "expected `i/n`"),
            ("", "expected `i/n`"),
            ("0/4", "1 <= i <= n"),
            ("5/4", "1 <= i <= n"),
            ("1/0", "1 <= i <= n"),
            ("a/2", "shard index `a` is not a number"),
            ("2/b", "shard count `b` is not a number"),
        ] {
            let e = bad.parse::<ShardSpec>().expect_err(bad);
            has_all(&e, &[says, "`auto`", "`auto/N`", "--shard 2/4"]);
        }
    }

    #[test]
    fn spec_serializes_as_its_text() {
        let v = serde_json::to_value(auto_n(4)).unwrap();
        assert_eq!(v, serde_json::json!("auto/4"));
        let back: ShardSpec = serde_json::from_value(serde_json::json!("2/3")).unwrap();
        assert_eq!(back, ShardSpec::Fixed(sh(2, 3)));
        assert!(serde_json::from_value::<ShardSpec>(serde_json::json!("auto/0")).is_err());
    }

    #[test]
    fn fixed_shard_ignores_the_environment() {
        let slurm = [(SLURM_ARRAY_TASK_ID, "5"), (SLURM_ARRAY_TASK_COUNT, "8")];
        assert_eq!(ok(ShardSpec::Fixed(sh(2, 3)), &slurm), sh(2, 3));
        assert_eq!(ok(ShardSpec::Fixed(sh(2, 3)), &[]), sh(2, 3));
    }

    #[test]
    fn slurm_min_and_max_give_index_and_count() {
        let env = |id: &'static str| {
            [
                (SLURM_ARRAY_TASK_ID, id),
                (SLURM_ARRAY_TASK_MIN, "0"),
                (SLURM_ARRAY_TASK_MAX, "7"),
                (SLURM_ARRAY_TASK_COUNT, "8"),
                (SLURM_ARRAY_TASK_STEP, "1"),
            ]
        };
        assert_eq!(ok(auto(), &env("0")), sh(1, 8));
        assert_eq!(ok(auto(), &env("7")), sh(8, 8));
        // Without COUNT and STEP (step defaults to 1).
        assert_eq!(
            ok(
                auto(),
                &[
                    (SLURM_ARRAY_TASK_ID, "3"),
                    (SLURM_ARRAY_TASK_MIN, "0"),
                    (SLURM_ARRAY_TASK_MAX, "7"),
                ]
            ),
            sh(4, 8)
        );
        // An array that starts at 1 (`--array=1-8`).
        assert_eq!(
            ok(
                auto(),
                &[
                    (SLURM_ARRAY_TASK_ID, "1"),
                    (SLURM_ARRAY_TASK_MIN, "1"),
                    (SLURM_ARRAY_TASK_MAX, "8"),
                    (SLURM_ARRAY_TASK_COUNT, "8"),
                ]
            ),
            sh(1, 8)
        );
    }

    #[test]
    fn slurm_count_alone_takes_ids_from_zero() {
        let env = |id: &'static str| [(SLURM_ARRAY_TASK_ID, id), (SLURM_ARRAY_TASK_COUNT, "3")];
        assert_eq!(ok(auto(), &env("0")), sh(1, 3));
        assert_eq!(ok(auto(), &env("2")), sh(3, 3));
        has_all(
            &err(auto(), &env("3")),
            &[
                "SLURM_ARRAY_TASK_ID=3",
                "out of range",
                "SLURM_ARRAY_TASK_COUNT=3",
            ],
        );
        has_all(
            &err(
                auto(),
                &[(SLURM_ARRAY_TASK_ID, "0"), (SLURM_ARRAY_TASK_COUNT, "0")],
            ),
            &["SLURM_ARRAY_TASK_COUNT=0"],
        );
    }

    #[test]
    fn slurm_stepped_array_maps_every_task_to_a_distinct_shard() {
        // `--array=0-15:2`: ids 0, 2, .., 14; Slurm's COUNT is 8.
        let mut got = Vec::new();
        for id in (0..=15).step_by(2) {
            let id = id.to_string();
            got.push(ok(
                auto(),
                &[
                    (SLURM_ARRAY_TASK_ID, &id),
                    (SLURM_ARRAY_TASK_MIN, "0"),
                    (SLURM_ARRAY_TASK_MAX, "14"),
                    (SLURM_ARRAY_TASK_STEP, "2"),
                    (SLURM_ARRAY_TASK_COUNT, "8"),
                ],
            ));
        }
        assert_eq!(got, (1..=8).map(|i| sh(i, 8)).collect::<Vec<_>>());
        // `--array=1-7:2` (1, 3, 5, 7).
        let env = |id: &'static str| {
            [
                (SLURM_ARRAY_TASK_ID, id),
                (SLURM_ARRAY_TASK_MIN, "1"),
                (SLURM_ARRAY_TASK_MAX, "7"),
                (SLURM_ARRAY_TASK_STEP, "2"),
            ]
        };
        assert_eq!(ok(auto(), &env("5")), sh(3, 4));
        // An id between the steps is not a task of this array.
        has_all(
            &err(auto(), &env("4")),
            &["SLURM_ARRAY_TASK_ID=4", "not a task of the array 1-7:2"],
        );
        let mut zero = env("1").to_vec();
        zero[3] = (SLURM_ARRAY_TASK_STEP, "0");
        has_all(&err(auto(), &zero), &["SLURM_ARRAY_TASK_STEP=0"]);
    }

    #[test]
    fn slurm_count_that_disagrees_with_min_max_step_is_refused() {
        // `--array=1,4,9`: MIN 1, MAX 9, COUNT 3. Not an evenly spaced range.
        let e = err(
            auto(),
            &[
                (SLURM_ARRAY_TASK_ID, "4"),
                (SLURM_ARRAY_TASK_MIN, "1"),
                (SLURM_ARRAY_TASK_MAX, "9"),
                (SLURM_ARRAY_TASK_COUNT, "3"),
            ],
        );
        has_all(&e, &["SLURM_ARRAY_TASK_COUNT=3", "spans 9", "--shard i/n"]);
    }

    #[test]
    fn slurm_id_outside_the_array_or_a_bad_array_is_refused() {
        let env = |id: &'static str, min: &'static str, max: &'static str| {
            [
                (SLURM_ARRAY_TASK_ID, id),
                (SLURM_ARRAY_TASK_MIN, min),
                (SLURM_ARRAY_TASK_MAX, max),
            ]
        };
        has_all(
            &err(auto(), &env("9", "0", "7")),
            &["SLURM_ARRAY_TASK_ID=9", "not a task of the array 0-7:1"],
        );
        has_all(
            &err(auto(), &env("2", "3", "7")),
            &["SLURM_ARRAY_TASK_ID=2", "not a task"],
        );
        has_all(
            &err(auto(), &env("5", "7", "3")),
            &["SLURM_ARRAY_TASK_MIN=7", "SLURM_ARRAY_TASK_MAX=3"],
        );
    }

    #[test]
    fn slurm_id_without_the_array_size_is_refused_by_name() {
        has_all(
            &err(auto(), &[(SLURM_ARRAY_TASK_ID, "2")]),
            &[
                "SLURM_ARRAY_TASK_ID=2",
                "SLURM_ARRAY_TASK_COUNT",
                "SLURM_ARRAY_TASK_MIN",
                "SLURM_ARRAY_TASK_MAX",
            ],
        );
        has_all(
            &err(
                auto(),
                &[(SLURM_ARRAY_TASK_ID, "2"), (SLURM_ARRAY_TASK_MIN, "0")],
            ),
            &["SLURM_ARRAY_TASK_MAX is not set"],
        );
        has_all(
            &err(
                auto(),
                &[
                    (SLURM_ARRAY_TASK_ID, "2"),
                    (SLURM_ARRAY_TASK_MAX, "3"),
                    (SLURM_ARRAY_TASK_COUNT, "4"),
                ],
            ),
            &["SLURM_ARRAY_TASK_MIN is not set"],
        );
    }

    #[test]
    fn slurm_count_must_match_auto_n_and_anesbench_shard_count() {
        let slurm = [
            (SLURM_ARRAY_TASK_ID, "1"),
            (SLURM_ARRAY_TASK_MIN, "0"),
            (SLURM_ARRAY_TASK_MAX, "7"),
        ];
        assert_eq!(ok(auto_n(8), &slurm), sh(2, 8));
        let e = err(auto_n(4), &slurm);
        has_all(&e, &["8 tasks", "`--shard auto/4`", "4 shards"]);
        let mut with_var = slurm.to_vec();
        with_var.push((ANESBENCH_SHARD_COUNT, "6"));
        has_all(
            &err(auto(), &with_var),
            &["8 tasks", "ANESBENCH_SHARD_COUNT=6"],
        );
        with_var[3] = (ANESBENCH_SHARD_COUNT, "8");
        assert_eq!(ok(auto(), &with_var), sh(2, 8));
    }

    #[test]
    fn kubernetes_index_is_zero_based_with_the_count_from_the_flag_or_variable() {
        assert_eq!(ok(auto_n(3), &[(JOB_COMPLETION_INDEX, "0")]), sh(1, 3));
        assert_eq!(ok(auto_n(3), &[(JOB_COMPLETION_INDEX, "2")]), sh(3, 3));
        let var = |i: &'static str| [(JOB_COMPLETION_INDEX, i), (ANESBENCH_SHARD_COUNT, "8")];
        assert_eq!(ok(auto(), &var("0")), sh(1, 8));
        assert_eq!(ok(auto(), &var("7")), sh(8, 8));
        // The flag and the variable may both be given if they agree.
        assert_eq!(ok(auto_n(8), &var("4")), sh(5, 8));
        has_all(
            &err(auto_n(4), &var("1")),
            &["`--shard auto/4`", "4 shards", "ANESBENCH_SHARD_COUNT=8"],
        );
    }

    #[test]
    fn kubernetes_index_without_a_count_or_out_of_range_is_refused() {
        has_all(
            &err(auto(), &[(JOB_COMPLETION_INDEX, "1")]),
            &[
                "JOB_COMPLETION_INDEX=1",
                "`--shard auto/N`",
                "ANESBENCH_SHARD_COUNT",
            ],
        );
        has_all(
            &err(auto_n(3), &[(JOB_COMPLETION_INDEX, "3")]),
            &[
                "JOB_COMPLETION_INDEX=3",
                "out of range for 3 shards",
                "0..2",
            ],
        );
        has_all(
            &err(
                auto(),
                &[(JOB_COMPLETION_INDEX, "0"), (ANESBENCH_SHARD_COUNT, "0")],
            ),
            &["ANESBENCH_SHARD_COUNT=0", "at least 1"],
        );
    }

    #[test]
    fn both_schedulers_set_is_ambiguous_unless_they_agree() {
        let both = |k8s: &'static str| {
            [
                (SLURM_ARRAY_TASK_ID, "1"),
                (SLURM_ARRAY_TASK_MIN, "0"),
                (SLURM_ARRAY_TASK_MAX, "3"),
                (JOB_COMPLETION_INDEX, k8s),
                (ANESBENCH_SHARD_COUNT, "4"),
            ]
        };
        assert_eq!(ok(auto(), &both("1")), sh(2, 4));
        let e = err(auto(), &both("3"));
        has_all(
            &e,
            &[
                "ambiguous",
                "2/4",
                "4/4",
                "SLURM_ARRAY_TASK_ID=1",
                "JOB_COMPLETION_INDEX=3",
                "--shard i/n",
            ],
        );
    }

    #[test]
    fn no_scheduler_names_the_variables_looked_for_and_suggests_a_fixed_shard() {
        for spec in [auto(), auto_n(4)] {
            let e = err(spec, &[]);
            has_all(
                &e,
                &[
                    &format!("`--shard {spec}`"),
                    "SLURM_ARRAY_TASK_ID",
                    "SLURM_ARRAY_TASK_COUNT",
                    "SLURM_ARRAY_TASK_MIN",
                    "SLURM_ARRAY_TASK_MAX",
                    "JOB_COMPLETION_INDEX",
                    "ANESBENCH_SHARD_COUNT",
                    "`--shard i/n`",
                ],
            );
            assert!(!e.contains("SLURM_JOB_ID"), "{e}");
        }
        // ANESBENCH_SHARD_COUNT alone gives no index.
        let e = err(auto(), &[(ANESBENCH_SHARD_COUNT, "4")]);
        has_all(&e, &["neither is set"]);
        // A plain (non-array) Slurm job gets told how to submit an array.
        let e = err(auto(), &[("SLURM_JOB_ID", "1234")]);
        has_all(&e, &["SLURM_JOB_ID", "sbatch --array", "`--shard i/n`"]);
    }

    #[test]
    fn empty_values_count_as_unset() {
        let e = err(
            auto(),
            &[(SLURM_ARRAY_TASK_ID, ""), (JOB_COMPLETION_INDEX, "  ")],
        );
        has_all(&e, &["neither is set"]);
        assert_eq!(
            ok(
                auto(),
                &[
                    (SLURM_ARRAY_TASK_ID, "0"),
                    (SLURM_ARRAY_TASK_COUNT, "2"),
                    (SLURM_ARRAY_TASK_MIN, ""),
                    (SLURM_ARRAY_TASK_STEP, ""),
                    (ANESBENCH_SHARD_COUNT, ""),
                ]
            ),
            sh(1, 2)
        );
    }

    #[test]
    fn non_numeric_values_are_refused_naming_the_variable_and_value() {
        let base = [
            (SLURM_ARRAY_TASK_ID, "1"),
            (SLURM_ARRAY_TASK_MIN, "0"),
            (SLURM_ARRAY_TASK_MAX, "3"),
            (SLURM_ARRAY_TASK_COUNT, "4"),
            (SLURM_ARRAY_TASK_STEP, "1"),
        ];
        for i in 0..base.len() {
            let mut env = base.to_vec();
            env[i].1 = "x7";
            let e = err(auto(), &env);
            has_all(&e, &[&format!("{}=`x7`", env[i].0), "not a whole number"]);
        }
        for (var, val) in [
            (JOB_COMPLETION_INDEX, "-1"),
            (ANESBENCH_SHARD_COUNT, "four"),
        ] {
            let mut env = vec![(JOB_COMPLETION_INDEX, "0"), (ANESBENCH_SHARD_COUNT, "4")];
            env.retain(|(k, _)| *k != var);
            env.push((var, val));
            has_all(&err(auto(), &env), &[&format!("{var}=`{val}`")]);
        }
    }

    #[test]
    fn resolve_from_process_env_reads_the_real_environment() {
        // Only a fixed shard is safe to resolve here whatever the test runner's environment
        // (it may itself run under Slurm); `auto` is covered through the fake env above.
        assert_eq!(
            ShardSpec::Fixed(sh(1, 2)).resolve_from_process_env(),
            Ok(sh(1, 2))
        );
    }
}
