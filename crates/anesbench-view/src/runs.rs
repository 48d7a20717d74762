//! Finding run directories under the roots the viewer was given, and the state kept per
//! run: manifest, offset index, dataset (for questions and prompts), caches.
//!
//! Only directories inside a root are served. Discovery canonicalises every directory
//! and skips any (a symlink, or a symlinked `samples.jsonl` / `manifest.json`) whose real
//! path leaves the roots. A run is named in URLs by an opaque id (a hash of its real
//! path), never by a path.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use anesbench_core::load::{self, Dataset, LoadOptions};
use anesbench_core::manifest::RunInfo;
use anesbench_core::rundir::{MANIFEST, SAMPLES};
use anesbench_core::vote::Aggregation;
use anesbench_core::{Item, Lang, Summary};

use crate::index::Index;
use crate::query::QueryCache;

/// How deep discovery descends below a root.
const MAX_DEPTH: usize = 12;

pub struct Run {
    pub id: String,
    pub dir: PathBuf,
    /// Path shown to the user: relative to its root, with the root's name.
    pub shown: String,
    state: Mutex<RunState>,
}

pub struct RunState {
    pub info: RunInfo,
    pub manifest: Option<anesbench_run::rundir::Manifest>,
    manifest_mtime: Option<SystemTime>,
    pub index: Index,
    pub dataset: Option<Arc<Items>>,
    pub dataset_note: Option<String>,
    dataset_tried: bool,
    pending: Option<std::thread::JoinHandle<Result<Items, String>>>,
    /// The summary, for (index generation, decision rule).
    summary: Option<(u64, Aggregation, Arc<Summary>)>,
    /// Summaries aggregated from the records since the viewer started (a summary read
    /// back from the on-disk cache is not counted).
    pub summaries_computed: u64,
    pub cache: QueryCache,
    /// The run directory (where a relative dataset source is looked for).
    dir: PathBuf,
}

/// The dataset of a run is still being loaded in the background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StillLoading;

/// The dataset items of a run, by (lang, id).
pub struct Items {
    items: [HashMap<String, Item>; 2],
    pub source: String,
}

impl Items {
    pub fn get(&self, lang: Lang, id: &str) -> Option<&Item> {
        self.items[lang as usize].get(id)
    }
}

impl Run {
    fn new(dir: PathBuf, shown: String) -> Run {
        let id = hex::encode(&sha2_256(dir.to_string_lossy().as_bytes())[..6]);
        let samples = dir.join(SAMPLES);
        Run {
            id,
            shown,
            state: Mutex::new(RunState {
                info: RunInfo::default(),
                manifest: None,
                manifest_mtime: None,
                index: Index::new(&samples),
                dataset: None,
                dataset_note: None,
                dataset_tried: false,
                pending: None,
                summary: None,
                summaries_computed: 0,
                cache: QueryCache::default(),
                dir: PathBuf::new(),
            }),
            dir,
        }
    }

    /// The state, with the manifest re-read if it changed and the index brought up to
    /// the end of the file.
    pub fn fresh(&self) -> MutexGuard<'_, RunState> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mpath = self.dir.join(MANIFEST);
        let mtime = std::fs::metadata(&mpath).and_then(|m| m.modified()).ok();
        if mtime != s.manifest_mtime || s.manifest_mtime.is_none() {
            s.manifest_mtime = mtime;
            if let Ok(text) = std::fs::read_to_string(&mpath) {
                s.info = RunInfo::from_manifest_json(&text).unwrap_or_default();
                s.manifest = serde_json::from_str(&text).ok();
            }
        }
        s.index.refresh();
        s.dir = self.dir.clone();
        s
    }

    /// True while a runner holds the run's lock with a recent heartbeat.
    pub fn live(&self) -> bool {
        let Ok(text) = std::fs::read_to_string(self.dir.join(".lock")) else {
            return false;
        };
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) => v["heartbeat"]
                .as_u64()
                .is_some_and(|h| now.saturating_sub(h) <= 60),
            // An old-style lock (a bare pid): live while the samples keep changing.
            Err(_) => std::fs::metadata(self.dir.join(SAMPLES))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .is_some_and(|d| d < Duration::from_secs(60)),
        }
    }
}

impl RunState {
    /// Summary of the records indexed so far, each item decided by the run's own rule
    /// exactly as the report decides it (recomputed when the index or the rule changes).
    /// A large run opened again reads it back from beside its cached index.
    pub fn summary(&mut self) -> Arc<Summary> {
        let g = self.index.generation;
        let agg = Aggregation::for_solver(&self.info.solver);
        if let Some((sg, sa, s)) = &self.summary {
            if *sg == g && *sa == agg {
                let (s, dir) = (s.clone(), self.dir.clone());
                self.prefetch_dataset(&dir);
                return s;
            }
        }
        let s = match self.index.cached_summary(agg.name()) {
            Some(s) => Arc::new(s),
            None => {
                let recs = self.index.light_records();
                let s = Summary::aggregate(&recs, agg, None);
                self.summaries_computed += 1;
                self.index.save_summary(agg.name(), &s);
                Arc::new(s)
            }
        };
        self.summary = Some((g, agg, s.clone()));
        // The dataset is loaded in the background from here on, once the index and the
        // summary (the first page) are done, so that it does not slow them.
        let dir = self.dir.clone();
        self.prefetch_dataset(&dir);
        s
    }

    /// Start loading the run's dataset on a background thread, once, so that the first
    /// search or sample page does not wait for all of it.
    pub fn prefetch_dataset(&mut self, dir: &Path) {
        if self.dataset_tried || self.info.dataset_source.is_empty() {
            return;
        }
        self.dataset_tried = true;
        let opts = self
            .manifest
            .as_ref()
            .map(|m| m.settings.load_options())
            .unwrap_or_default();
        let (src, dir) = (self.info.dataset_source.clone(), dir.to_path_buf());
        self.pending = Some(std::thread::spawn(move || {
            let (d, shown) = load_dataset(&src, &dir, &opts)?;
            let mut items = [HashMap::new(), HashMap::new()];
            for it in d.items {
                items[it.lang as usize].insert(it.id.clone(), it);
            }
            Ok(Items {
                items,
                source: shown,
            })
        }));
    }

    /// The run's dataset when it is in by `deadline`: `Err(StillLoading)` while the
    /// background load is still running then (the caller goes on without it), `Ok(None)`
    /// when there is none.
    pub fn dataset_by(
        &mut self,
        dir: &Path,
        deadline: Instant,
    ) -> Result<Option<Arc<Items>>, StillLoading> {
        self.prefetch_dataset(dir);
        while self.pending.as_ref().is_some_and(|h| !h.is_finished()) {
            if Instant::now() >= deadline {
                return Err(StillLoading);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(self.dataset(dir))
    }

    /// The run's dataset, loaded once from the manifest's source (never over the network);
    /// waits for the background load when it is still running.
    pub fn dataset(&mut self, dir: &Path) -> Option<Arc<Items>> {
        self.prefetch_dataset(dir);
        if let Some(h) = self.pending.take() {
            match h.join() {
                Ok(Ok(items)) => self.dataset = Some(Arc::new(items)),
                Ok(Err(e)) => self.dataset_note = Some(e),
                Err(_) => self.dataset_note = Some("loading the dataset panicked".into()),
            }
        }
        self.dataset.clone()
    }
}

/// Load a run's dataset: `demo`, a cached `hf:` source, or a path as given, relative to
/// the run directory, to the working directory, or to any directory above the run.
fn load_dataset(src: &str, dir: &Path, opts: &LoadOptions) -> Result<(Dataset, String), String> {
    if src == "demo" {
        return load::load(src, opts)
            .map(|d| (d, src.to_string()))
            .map_err(|e| e.to_string());
    }
    if let Some(spec) = load::hf::HfSource::parse(src) {
        let spec = spec.map_err(|e| e.to_string())?;
        let env = load::hf::HubEnv::from_env().map_err(|e| e.to_string())?;
        let Some(path) = load::hf::cached(&spec, &env) else {
            return Err(format!(
                "dataset {src} is not in the Hugging Face cache (the viewer never downloads): questions, options and prompts are not shown"
            ));
        };
        let shown = path.display().to_string();
        return load::load(&shown, opts)
            .map(|d| (d, src.to_string()))
            .map_err(|e| e.to_string());
    }
    let p = Path::new(src);
    let mut candidates = vec![p.to_path_buf()];
    if p.is_relative() {
        candidates.push(dir.join(p));
        let mut up = dir.parent();
        while let Some(a) = up {
            candidates.push(a.join(p));
            up = a.parent();
        }
    }
    for c in candidates {
        if c.exists() {
            let shown = c.display().to_string();
            return load::load(&shown, opts)
                .map(|d| (d, shown))
                .map_err(|e| e.to_string());
        }
    }
    Err(format!(
        "dataset {src} not found (tried as given, beside the run and in the folders above it): questions, options and prompts are not shown"
    ))
}

fn sha2_256(b: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(b).to_vec()
}

/// Every run under the roots, rescanned at most every couple of seconds.
pub struct Registry {
    roots: Vec<PathBuf>,
    inner: Mutex<Scan>,
}

struct Scan {
    at: Option<Instant>,
    list: Vec<Arc<Run>>,
    by_id: HashMap<String, Arc<Run>>,
}

impl Registry {
    /// Roots must exist; they are canonicalised here.
    pub fn new(roots: &[PathBuf]) -> anyhow::Result<Registry> {
        let mut rs = Vec::new();
        for r in roots {
            let c = r
                .canonicalize()
                .map_err(|e| anyhow::anyhow!("{}: {e}", r.display()))?;
            if !c.is_dir() {
                anyhow::bail!("{}: not a directory", r.display());
            }
            rs.push(c);
        }
        Ok(Registry {
            roots: rs,
            inner: Mutex::new(Scan {
                at: None,
                list: Vec::new(),
                by_id: HashMap::new(),
            }),
        })
    }

    pub fn runs(&self) -> Vec<Arc<Run>> {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if s.at.is_none_or(|t| t.elapsed() > Duration::from_secs(2)) {
            let found = discover(&self.roots);
            let mut list = Vec::with_capacity(found.len());
            for (dir, shown) in found {
                let id = hex::encode(&sha2_256(dir.to_string_lossy().as_bytes())[..6]);
                let run = s
                    .by_id
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| Arc::new(Run::new(dir, shown)));
                list.push(run);
            }
            s.by_id = list.iter().map(|r| (r.id.clone(), r.clone())).collect();
            s.list = list;
            s.at = Some(Instant::now());
        }
        s.list.clone()
    }

    pub fn get(&self, id: &str) -> Option<Arc<Run>> {
        let found = self
            .inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_id
            .get(id)
            .cloned();
        found.or_else(|| self.runs().into_iter().find(|r| r.id == id))
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }
}

/// Run directories (real paths) under the canonical `roots`, with their shown names.
pub fn discover(roots: &[PathBuf]) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for root in roots {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| root.display().to_string());
        walk(root, roots, root, &name, 0, &mut seen, &mut out);
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

fn inside(p: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().any(|r| p.starts_with(r))
}

/// A regular file inside the roots (after following symlinks), or nothing.
fn contained_file(p: &Path, roots: &[PathBuf]) -> bool {
    p.canonicalize()
        .is_ok_and(|c| inside(&c, roots) && c.is_file())
}

fn walk(
    dir: &Path,
    roots: &[PathBuf],
    root: &Path,
    root_name: &str,
    depth: usize,
    seen: &mut HashSet<PathBuf>,
    out: &mut Vec<(PathBuf, String)>,
) {
    let Ok(real) = dir.canonicalize() else { return };
    if !inside(&real, roots) || !seen.insert(real.clone()) {
        return;
    }
    let samples = real.join(SAMPLES);
    let manifest = real.join(MANIFEST);
    let has_samples = samples.exists() && contained_file(&samples, roots);
    let has_manifest = manifest.exists() && contained_file(&manifest, roots);
    let bad_link = (samples.exists() && !has_samples) || (manifest.exists() && !has_manifest);
    if (has_samples || has_manifest) && !bad_link {
        let rel = dir.strip_prefix(root).unwrap_or(dir);
        let shown = if rel.as_os_str().is_empty() {
            root_name.to_string()
        } else {
            format!("{root_name}/{}", rel.display())
        };
        out.push((real.clone(), shown));
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(rd) = std::fs::read_dir(&real) else {
        return;
    };
    let mut subs: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subs.sort();
    for s in subs {
        walk(&s, roots, root, root_name, depth + 1, seen, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anesbench_core::{Level, SampleRecord};
    use std::io::Write as _;

    fn line(id: &str, sample: u32, answer: char, lp: f64) -> Vec<u8> {
        let r = SampleRecord {
            answer: Some(answer),
            rule: "answer_is".into(),
            correct: answer == 'B',
            mean_logprob: Some(lp),
            ..SampleRecord::new(id, Lang::En, Level::S1, sample, 'B', "ABCD")
        };
        let mut v = serde_json::to_vec(&r).unwrap();
        v.push(b'\n');
        v
    }

    fn manifest(dir: &Path, solver: &str) {
        let m = serde_json::json!({"model": "m", "solver": solver, "samples_per_item": 2});
        std::fs::write(dir.join(MANIFEST), m.to_string()).unwrap();
    }

    /// A viewer start: the run opened afresh, its index cache in `cache`.
    fn open(dir: &Path, cache: &Path) -> (Summary, u64, Option<bool>) {
        let run = Run::new(dir.to_path_buf(), "r".into());
        {
            let mut s = run.state.lock().unwrap();
            s.index.cache_dir = Some(cache.to_path_buf());
            s.index.cache_min_bytes = 0;
        }
        let mut s = run.fresh();
        let sum = (*s.summary()).clone();
        // Asked again in the same session: the one in memory.
        s.summary();
        (sum, s.summaries_computed, s.index.from_cache)
    }

    #[test]
    fn a_restart_with_a_valid_cache_reads_the_summary_back_and_a_stale_one_recomputes() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("run");
        std::fs::create_dir_all(&dir).unwrap();
        let cache = d.path().join("cache");
        // Item 1: majority B (right), likelihood A (wrong); item 2: both B.
        let mut bytes = Vec::new();
        for (id, k, a, lp) in [
            ("1", 0, 'A', -0.1),
            ("1", 1, 'B', -0.5),
            ("1", 2, 'B', -0.6),
            ("2", 0, 'B', -0.2),
            ("2", 1, 'B', -0.3),
        ] {
            bytes.extend(line(id, k, a, lp));
        }
        std::fs::write(dir.join(SAMPLES), &bytes).unwrap();
        manifest(&dir, "best-of-n:3:likelihood");
        let (first, n, from) = open(&dir, &cache);
        assert_eq!((first.overall.correct, n, from), (1, 1, Some(false)));
        // Restarted, the file unchanged: index and summary from the cache, none computed.
        let (again, n, from) = open(&dir, &cache);
        assert_eq!((n, from), (0, Some(true)));
        assert_eq!(again, first);
        // Another rule for the same samples (the manifest changed): not the saved one.
        manifest(&dir, "self-consistency:3");
        let (maj, n, _) = open(&dir, &cache);
        assert_eq!((maj.overall.correct, n), (2, 1));
        manifest(&dir, "best-of-n:3:likelihood");
        // The file grew: the cache is stale, the summary is recomputed with the new line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join(SAMPLES))
            .unwrap()
            .write_all(&line("3", 0, 'B', -0.1))
            .unwrap();
        let (grown, n, from) = open(&dir, &cache);
        assert_eq!((n, from), (1, Some(false)));
        assert_eq!((grown.items, grown.overall.correct), (3, 2));
        // A damaged summary file is recomputed, not half-read.
        let idx = crate::index_cache::file_for(&cache, &dir.join(SAMPLES));
        let sum_file = crate::index_cache::summary_file_for(&idx);
        let whole = std::fs::read(&sum_file).unwrap();
        std::fs::write(&sum_file, &whole[..whole.len() - 5]).unwrap();
        let (fixed, n, from) = open(&dir, &cache);
        assert_eq!((n, from), (1, Some(true)));
        assert_eq!(fixed, grown);
    }
}
