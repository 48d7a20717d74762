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
    summary: Option<(u64, Arc<Summary>)>,
    pub cache: QueryCache,
}

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
                cache: QueryCache::default(),
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
        let dir = self.dir.clone();
        s.prefetch_dataset(&dir);
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
    /// Summary of the records indexed so far (recomputed when the index changes).
    pub fn summary(&mut self) -> Arc<Summary> {
        let g = self.index.generation;
        if let Some((sg, s)) = &self.summary {
            if *sg == g {
                return s.clone();
            }
        }
        let recs = self.index.light_records();
        let s = Arc::new(Summary::from_records(&recs));
        self.summary = Some((g, s.clone()));
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
