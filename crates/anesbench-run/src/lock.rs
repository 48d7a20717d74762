//! An exclusive lock on a run directory, so two runs never append to one `samples.jsonl`.
//!
//! Run directories often sit on NFS or Lustre, where `flock` is node-local or missing, so
//! the lock is a plain file instead: `<run>/.lock`, created with `O_CREAT|O_EXCL`
//! (`create_new`), which only one contender can win on a local file system and on NFS v3
//! and later. The file is JSON naming the holder: host, pid, start time, a random token
//! and a heartbeat (unix seconds) that a background thread refreshes every few seconds.
//!
//! A lock file whose holder is gone is stale and is taken over:
//! - on this host (same boot and pid namespace), as soon as the holder's pid is dead,
//!   a zombie, or reused by another process (its start time differs), so a `kill -9` is
//!   noticed at once;
//! - on another host, only once the heartbeat is older than [`STALE_AFTER`].
//!
//! A live holder on this host keeps its lock even with an old heartbeat (a suspended run
//! would otherwise lose it).
//!
//! No file system can delete a file only if it still holds given content, so removing a
//! stale lock is serialized by a second `O_EXCL` file, `<run>/.lock.takeover`, held for
//! milliseconds: under it, a contender re-reads the lock file, deletes it only if it is
//! byte for byte the one it judged stale (the token makes each lock's content unique),
//! and then races for `create_new` like anyone else, so two contenders cannot both win.
//! A holder releasing its lock removes it under the same guard, and only if it still
//! holds its token. A guard left by a contender that died inside those milliseconds is
//! removed once it is older than the stale threshold (at least 10 s).
//!
//! Lock files of older versions (a bare pid, guarded by `flock`) are understood too: one
//! that no process holds `flock` on is stale.
//!
//! Heartbeat ages compare the holder's clock with ours, so hosts' clocks must agree to
//! well within [`STALE_AFTER`]; a heartbeat from the future counts as fresh.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::RunError;

pub const LOCK_FILE: &str = ".lock";
/// How often a holder refreshes its heartbeat.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
/// A heartbeat older than this marks the lock stale (for a holder on another host).
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// How often the heartbeat is refreshed and when a lock counts as stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockTimings {
    pub heartbeat: Duration,
    pub stale_after: Duration,
}

impl Default for LockTimings {
    fn default() -> Self {
        LockTimings {
            heartbeat: HEARTBEAT_EVERY,
            stale_after: STALE_AFTER,
        }
    }
}

/// The content of a lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Holder {
    host: String,
    pid: u32,
    /// Unix seconds.
    started_at: u64,
    /// Unix seconds of the last refresh.
    heartbeat: u64,
    token: String,
    /// Boot id and pid namespace: a pid means the same process only where these agree.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    node: String,
    /// The holder's start time in clock ticks since boot (`/proc/<pid>/stat` field 22),
    /// to tell a reused pid from the holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pid_start: Option<u64>,
}

/// Held for as long as the run writes the directory; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    token: String,
    took_over: Option<String>,
    timings: LockTimings,
    lost: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    beat: Option<JoinHandle<()>>,
}

impl RunLock {
    pub fn acquire(dir: &Path) -> Result<RunLock, RunError> {
        RunLock::acquire_with(dir, LockTimings::default())
    }

    pub fn acquire_with(dir: &Path, timings: LockTimings) -> Result<RunLock, RunError> {
        let path = dir.join(LOCK_FILE);
        let io = |e: std::io::Error| RunError::io(&path, e);
        let token = new_token();
        let mut took_over = None;
        for _ in 0..8 {
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    return RunLock::start(path.clone(), file, token, took_over, timings);
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(e)),
            }
            let Some((raw, verdict)) = judge(&path, timings).map_err(io)? else {
                continue; // released meanwhile
            };
            let who = match verdict {
                Verdict::Held(holder) => {
                    return Err(RunError::Locked {
                        dir: dir.to_path_buf(),
                        holder,
                    });
                }
                Verdict::Stale(who) => who,
            };
            let Some(_guard) = Guard::take(dir, timings).map_err(io)? else {
                return Err(RunError::Locked {
                    dir: dir.to_path_buf(),
                    holder: " (another process is taking over its stale lock; try again)"
                        .to_string(),
                });
            };
            // Still the file we judged? Then nobody has replaced it, and nobody can
            // while we hold the guard.
            if read_bytes(&path).map_err(io)?.as_deref() == Some(&raw[..]) {
                match std::fs::remove_file(&path) {
                    Ok(()) => took_over = Some(who),
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(io(e)),
                }
            }
        }
        Err(RunError::Locked {
            dir: dir.to_path_buf(),
            holder: " (the lock changed hands repeatedly; try again)".to_string(),
        })
    }

    /// Write our holder record into the freshly created file and start the heartbeat.
    fn start(
        path: PathBuf,
        mut file: File,
        token: String,
        took_over: Option<String>,
        timings: LockTimings,
    ) -> Result<RunLock, RunError> {
        let now = unix_now();
        let mut holder = Holder {
            host: host_name().to_string(),
            pid: std::process::id(),
            started_at: now,
            heartbeat: now,
            token: token.clone(),
            node: node_id().to_string(),
            pid_start: proc_start_time(std::process::id()),
        };
        let written = write_holder(&mut file, &holder, 0).and_then(|n| file.sync_all().map(|()| n));
        let mut len = match written {
            Ok(n) => n,
            Err(e) => {
                drop(file);
                let _ = std::fs::remove_file(&path);
                return Err(RunError::io(&path, e));
            }
        };
        let lost = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let beat = {
            let (path, lost) = (path.clone(), lost.clone());
            std::thread::Builder::new()
                .name("run-lock-heartbeat".to_string())
                .spawn(move || {
                    // Wakes every period until the sender is dropped.
                    while let Err(mpsc::RecvTimeoutError::Timeout) =
                        stopped.recv_timeout(timings.heartbeat)
                    {
                        match read_holder_token(&path) {
                            Some(Ok(t)) if t == holder.token => {}
                            Some(Ok(_)) => {
                                // Taken over: someone judged us stale. Stop refreshing.
                                lost.store(true, Ordering::SeqCst);
                                return;
                            }
                            // Gone for now (a contender is checking it) or unreadable:
                            // keep refreshing our own file through our handle.
                            Some(Err(())) | None => {}
                        }
                        holder.heartbeat = unix_now();
                        // A failed refresh (a hiccup of the file server) is retried at the
                        // next beat; the stale threshold spans many beats.
                        if let Ok(n) = write_holder(&mut file, &holder, len) {
                            len = n;
                            let _ = file.sync_data();
                        }
                    }
                })
        };
        let beat = match beat {
            Ok(b) => b,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(RunError::io(&path, e));
            }
        };
        Ok(RunLock {
            path,
            token,
            took_over,
            timings,
            lost,
            stop: Some(stop),
            beat: Some(beat),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stale holder this lock replaced, if any (for a warning), e.g.
    /// `pid 1234 on host node07 (process gone)`.
    pub fn took_over(&self) -> Option<&str> {
        self.took_over.as_deref()
    }

    /// False once another process has taken the lock over (it judged our heartbeat
    /// stale, e.g. after the file server or this process stalled past the threshold).
    pub fn is_held(&self) -> bool {
        !self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(beat) = self.beat.take() {
            let _ = beat.join();
        }
        if !self.is_held() {
            return;
        }
        // Under the guard, so a contender that judged us stale and replaced the file
        // cannot have its fresh lock removed between our check and our removal. If the
        // guard stays busy, the file is left: our pid is gone soon, and so is the lock.
        let Some(dir) = self.path.parent() else {
            return;
        };
        let Ok(Some(_guard)) = Guard::take(dir, self.timings) else {
            return;
        };
        if read_holder_token(&self.path) == Some(Ok(self.token.clone())) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

enum Verdict {
    /// Refuse; the text is the holder part of the error message.
    Held(String),
    /// Take over; the text describes the stale holder.
    Stale(String),
}

/// Read the lock file and decide whether its holder still holds it. `None`: no file.
/// Also returns the raw bytes judged, so a takeover can check it moves the same file.
fn judge(path: &Path, timings: LockTimings) -> std::io::Result<Option<(Vec<u8>, Verdict)>> {
    // A holder rewrites its file in place; retry a read that caught a write half done.
    let mut raw = Vec::new();
    for i in 0..5 {
        raw = match read_bytes(path)? {
            None => return Ok(None),
            Some(raw) => raw,
        };
        if parse(&raw).is_some() {
            break;
        }
        if i < 4 {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let verdict = match parse(&raw) {
        Some(Parsed::Holder(h)) => judge_holder(&h, timings),
        Some(Parsed::Legacy(pid)) => judge_legacy(path, pid)?,
        None => {
            // Empty or damaged: a creator died between create and write, or someone
            // wrote junk. Judge by the file's age.
            let age = match std::fs::metadata(path) {
                Ok(m) => m.modified().ok().map_or(0, age_secs_of),
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            if Duration::from_secs(age) > timings.stale_after {
                Verdict::Stale(format!("an unreadable lock file (written {age} s ago)"))
            } else {
                Verdict::Held(format!(" (unreadable lock file, written {age} s ago)"))
            }
        }
    };
    Ok(Some((raw, verdict)))
}

fn judge_holder(h: &Holder, timings: LockTimings) -> Verdict {
    let who = format!("pid {} on host {}", h.pid, h.host);
    let age = unix_now().saturating_sub(h.heartbeat);
    if same_node(h) {
        match pid_state(h.pid, h.pid_start) {
            PidState::Dead => return Verdict::Stale(format!("{who} (process gone)")),
            // The very process that wrote the file: it holds the lock, however old the
            // heartbeat (it may be suspended).
            PidState::Alive { verified: true } => {
                return Verdict::Held(format!(" ({who}, heartbeat {age} s ago)"));
            }
            PidState::Alive { verified: false } | PidState::Unknown => {}
        }
    }
    if Duration::from_secs(age) > timings.stale_after {
        Verdict::Stale(format!("{who} (heartbeat {age} s ago)"))
    } else {
        Verdict::Held(format!(" ({who}, heartbeat {age} s ago)"))
    }
}

/// A lock file of an older version holds a bare pid and is guarded by `flock`.
fn judge_legacy(path: &Path, pid: u32) -> std::io::Result<Verdict> {
    let file = match File::open(path) {
        Ok(f) => f,
        // Gone meanwhile: stale, and the takeover finds nothing to remove.
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Ok(Verdict::Stale(format!("pid {pid} (released)")));
        }
        Err(e) => return Err(e),
    };
    Ok(match file.try_lock() {
        Err(TryLockError::WouldBlock) => Verdict::Held(format!(" (pid {pid})")),
        // Unlocked, or a file system without `flock`, where the old lock held nothing.
        Ok(()) | Err(TryLockError::Error(_)) => Verdict::Stale(format!(
            "pid {pid} (lock file of an older version, not held)"
        )),
    })
}

const GUARD_FILE: &str = ".lock.takeover";

/// Serializes removing a lock file: see the module docs. Removed on drop.
struct Guard {
    path: PathBuf,
}

impl Guard {
    /// Wait up to 2 s for the guard; `None` if it stays busy.
    fn take(dir: &Path, timings: LockTimings) -> std::io::Result<Option<Guard>> {
        let path = dir.join(GUARD_FILE);
        let stale = timings.stale_after.max(Duration::from_secs(10));
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    let _ = writeln!(f, "pid {} on host {}", std::process::id(), host_name());
                    return Ok(Some(Guard { path }));
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            // A contender that died inside its takeover left the guard behind.
            let age = std::fs::metadata(&path).and_then(|m| m.modified());
            if age.is_ok_and(|t| Duration::from_secs(age_secs_of(t)) > stale) {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

enum Parsed {
    Holder(Holder),
    Legacy(u32),
}

fn parse(raw: &[u8]) -> Option<Parsed> {
    let text = std::str::from_utf8(raw).ok()?.trim();
    if let Ok(h) = serde_json::from_str::<Holder>(text) {
        return Some(Parsed::Holder(h));
    }
    text.parse::<u32>().ok().map(Parsed::Legacy)
}

fn read_bytes(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let mut raw = Vec::new();
    match File::open(path).and_then(|mut f| f.read_to_end(&mut raw)) {
        Ok(_) => Ok(Some(raw)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The token in the lock file: `None` if there is no file, `Err` if it cannot be read.
fn read_holder_token(path: &Path) -> Option<Result<String, ()>> {
    match read_bytes(path) {
        Ok(None) => None,
        Ok(Some(raw)) => Some(match parse(&raw) {
            Some(Parsed::Holder(h)) => Ok(h.token),
            Some(Parsed::Legacy(pid)) => Ok(format!("legacy {pid}")),
            None => Err(()),
        }),
        Err(_) => Some(Err(())),
    }
}

/// Rewrite the holder record in place (the same length each time, as only the heartbeat
/// changes), trimming if it got shorter. Returns the new length.
fn write_holder(file: &mut File, holder: &Holder, old_len: usize) -> std::io::Result<usize> {
    let mut text = serde_json::to_string(holder).map_err(std::io::Error::other)?;
    text.push('\n');
    file.seek(SeekFrom::Start(0))?;
    file.write_all(text.as_bytes())?;
    if text.len() < old_len {
        file.set_len(text.len() as u64)?;
    }
    Ok(text.len())
}

fn same_node(h: &Holder) -> bool {
    let ours = node_id();
    if !h.node.is_empty() && !ours.is_empty() {
        h.node == ours
    } else {
        h.host == host_name()
    }
}

#[derive(Debug, PartialEq, Eq)]
enum PidState {
    Dead,
    /// `verified`: its start time matches the one in the lock file.
    Alive {
        verified: bool,
    },
    /// No `/proc` to ask.
    Unknown,
}

fn pid_state(pid: u32, start: Option<u64>) -> PidState {
    if !Path::new("/proc/self/stat").exists() {
        return PidState::Unknown;
    }
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s,
        Err(e) if e.kind() == ErrorKind::NotFound => return PidState::Dead,
        Err(_) => return PidState::Unknown,
    };
    let Some((state, started)) = parse_stat(&stat) else {
        return PidState::Unknown;
    };
    if matches!(state, 'Z' | 'X' | 'x') {
        return PidState::Dead;
    }
    match (start, started) {
        (Some(a), Some(b)) if a != b => PidState::Dead, // the pid was reused
        (Some(_), Some(_)) => PidState::Alive { verified: true },
        _ => PidState::Alive { verified: false },
    }
}

/// State and start time from `/proc/<pid>/stat`; the command name (field 2) is in
/// parentheses and may hold spaces and parentheses itself.
fn parse_stat(stat: &str) -> Option<(char, Option<u64>)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // Fields after the state are 4.. ; the start time is field 22.
    let started = fields.nth(22 - 4).and_then(|s| s.parse().ok());
    Some((state, started))
}

fn proc_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat)?.1
}

fn host_name() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        ["/proc/sys/kernel/hostname", "/etc/hostname"]
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .chain(
                ["HOSTNAME", "COMPUTERNAME"]
                    .iter()
                    .filter_map(|v| std::env::var(v).ok()),
            )
            .map(|h| h.trim().to_string())
            .find(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown".to_string())
    })
}

/// Boot id and pid namespace of this process, or "" where `/proc` does not tell.
fn node_id() -> &'static str {
    static NODE: OnceLock<String> = OnceLock::new();
    NODE.get_or_init(|| {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id");
        let pidns = std::fs::read_link("/proc/self/ns/pid");
        match (boot, pidns) {
            (Ok(b), Ok(ns)) => format!("{}/{}", b.trim(), ns.display()),
            _ => String::new(),
        }
    })
}

fn new_token() -> String {
    format!("{:016x}-{}", rand::random::<u64>(), std::process::id())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn age_secs_of(t: SystemTime) -> u64 {
    SystemTime::now()
        .duration_since(t)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> LockTimings {
        LockTimings {
            heartbeat: Duration::from_millis(100),
            stale_after: Duration::from_secs(60),
        }
    }

    fn read(dir: &Path) -> Holder {
        let raw = std::fs::read(dir.join(LOCK_FILE)).unwrap();
        match parse(&raw) {
            Some(Parsed::Holder(h)) => h,
            _ => panic!("not a holder record: {}", String::from_utf8_lossy(&raw)),
        }
    }

    fn write(dir: &Path, h: &Holder) {
        std::fs::write(dir.join(LOCK_FILE), serde_json::to_string(h).unwrap()).unwrap();
    }

    fn other_host(heartbeat: u64) -> Holder {
        Holder {
            host: "node07-elsewhere".to_string(),
            pid: 1234,
            started_at: heartbeat,
            heartbeat,
            token: "their-token".to_string(),
            node: "another-boot/pid:[1]".to_string(),
            pid_start: Some(99),
        }
    }

    /// A pid that was ours to spawn and is now dead (reaped).
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let a = RunLock::acquire(dir.path()).unwrap();
        let e = RunLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("another run") && e.contains(&std::process::id().to_string()),
            "{e}"
        );
        assert!(e.contains(&format!("on host {}", host_name())), "{e}");
        drop(a);
        RunLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn a_fresh_lock_writes_the_holder_and_is_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let lock = RunLock::acquire(dir.path()).unwrap();
        assert_eq!(lock.path(), dir.path().join(LOCK_FILE));
        assert_eq!(lock.took_over(), None);
        assert!(lock.is_held());
        let h = read(dir.path());
        assert_eq!(h.pid, std::process::id());
        assert_eq!(h.host, host_name());
        assert_eq!(h.token, lock.token);
        assert!(unix_now() - h.heartbeat < 5);
        assert!(h.started_at <= h.heartbeat);
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
    }

    #[test]
    fn the_heartbeat_is_refreshed_while_held() {
        let dir = tempfile::tempdir().unwrap();
        let lock = RunLock::acquire_with(dir.path(), fast()).unwrap();
        // Age the heartbeat by hand (same token, same file), then wait for a refresh.
        let mut h = read(dir.path());
        h.heartbeat = 1000;
        let mut f = OpenOptions::new()
            .write(true)
            .open(dir.path().join(LOCK_FILE))
            .unwrap();
        let len = f.metadata().unwrap().len() as usize;
        write_holder(&mut f, &h, len).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while read(dir.path()).heartbeat == 1000 {
            assert!(
                std::time::Instant::now() < deadline,
                "heartbeat not refreshed"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(unix_now() - read(dir.path()).heartbeat < 5);
        assert!(lock.is_held());
    }

    #[test]
    fn a_lock_on_another_host_with_a_fresh_heartbeat_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &other_host(unix_now() - 3));
        let e = RunLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(e, RunError::Locked { .. }), "{e}");
        let e = e.to_string();
        assert!(
            e.contains("another run (pid 1234 on host node07-elsewhere, heartbeat 3 s ago)")
                || e.contains("heartbeat 4 s ago"),
            "{e}"
        );
        // Untouched.
        assert_eq!(read(dir.path()).token, "their-token");
    }

    #[test]
    fn a_lock_on_another_host_with_an_old_heartbeat_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &other_host(unix_now() - 3600));
        let lock = RunLock::acquire(dir.path()).unwrap();
        let was = lock.took_over().unwrap();
        assert!(
            was.contains("pid 1234 on host node07-elsewhere") && was.contains("heartbeat 3600"),
            "{was}"
        );
        assert_eq!(read(dir.path()).token, lock.token);
        // Nothing is left aside.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn the_stale_threshold_can_be_set() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &other_host(unix_now() - 10));
        RunLock::acquire(dir.path()).unwrap_err();
        let short = LockTimings {
            stale_after: Duration::from_secs(5),
            ..fast()
        };
        let lock = RunLock::acquire_with(dir.path(), short).unwrap();
        assert!(lock.took_over().unwrap().contains("heartbeat 1"));
    }

    #[test]
    fn a_dead_pid_on_this_host_is_taken_over_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let pid = dead_pid();
        write(
            dir.path(),
            &Holder {
                host: host_name().to_string(),
                pid,
                started_at: unix_now(),
                heartbeat: unix_now(),
                token: "dead".to_string(),
                node: node_id().to_string(),
                pid_start: Some(1),
            },
        );
        let lock = RunLock::acquire(dir.path()).unwrap();
        let was = lock.took_over().unwrap();
        assert!(
            was.contains(&format!("pid {pid} on host")) && was.contains("process gone"),
            "{was}"
        );
    }

    #[test]
    fn a_reused_pid_on_this_host_is_taken_over() {
        // Our own pid is alive, but with another start time it is not the holder.
        let dir = tempfile::tempdir().unwrap();
        let me = std::process::id();
        write(
            dir.path(),
            &Holder {
                host: host_name().to_string(),
                pid: me,
                started_at: unix_now(),
                heartbeat: unix_now(),
                token: "reused".to_string(),
                node: node_id().to_string(),
                pid_start: proc_start_time(me).map(|s| s + 1),
            },
        );
        let lock = RunLock::acquire(dir.path()).unwrap();
        assert!(lock.took_over().unwrap().contains("process gone"));
    }

    #[test]
    fn a_live_holder_on_this_host_keeps_its_lock_despite_an_old_heartbeat() {
        let dir = tempfile::tempdir().unwrap();
        let me = std::process::id();
        write(
            dir.path(),
            &Holder {
                host: host_name().to_string(),
                pid: me,
                started_at: 1000,
                heartbeat: 1000,
                token: "suspended".to_string(),
                node: node_id().to_string(),
                pid_start: proc_start_time(me),
            },
        );
        let e = RunLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(e.contains(&format!("pid {me} on host")), "{e}");
    }

    #[test]
    fn a_lock_taken_over_is_not_removed_by_the_old_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        let old = RunLock::acquire_with(dir.path(), fast()).unwrap();
        // Another process took it over: the old file went aside, a new one came.
        std::fs::rename(&path, dir.path().join("aside")).unwrap();
        write(dir.path(), &other_host(unix_now()));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while old.is_held() {
            assert!(std::time::Instant::now() < deadline, "takeover not noticed");
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(old);
        assert_eq!(read(dir.path()).token, "their-token");
    }

    #[test]
    fn the_token_is_checked_on_drop_even_before_a_heartbeat() {
        let dir = tempfile::tempdir().unwrap();
        let old = RunLock::acquire(dir.path()).unwrap(); // beats only after 5 s
        write(dir.path(), &other_host(unix_now()));
        drop(old);
        assert_eq!(read(dir.path()).token, "their-token");
    }

    #[test]
    fn an_unreadable_lock_file_is_judged_by_its_age() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        std::fs::write(&path, "").unwrap();
        let e = RunLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(e.contains("unreadable lock file"), "{e}");
        let f = File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
        drop(f);
        let lock = RunLock::acquire(dir.path()).unwrap();
        assert!(lock.took_over().unwrap().contains("unreadable"));
    }

    #[test]
    fn a_lock_file_of_an_older_version_counts_only_while_flocked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        std::fs::write(&path, "4242").unwrap();
        let old = File::open(&path).unwrap();
        old.lock().unwrap();
        let e = RunLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(e.contains("another run (pid 4242)"), "{e}");
        drop(old);
        let lock = RunLock::acquire(dir.path()).unwrap();
        assert!(lock.took_over().unwrap().contains("pid 4242"));
    }

    #[test]
    fn contenders_for_a_stale_lock_have_one_winner() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            write(dir.path(), &other_host(unix_now() - 3600));
            let barrier = Arc::new(std::sync::Barrier::new(8));
            let won: Vec<_> = (0..8)
                .map(|_| {
                    let (dir, barrier) = (dir.path().to_path_buf(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        RunLock::acquire(&dir).ok()
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect();
            let winners: Vec<_> = won.iter().flatten().collect();
            assert_eq!(winners.len(), 1);
            assert_eq!(read(dir.path()).token, winners[0].token);
        }
    }

    #[test]
    fn proc_stat_is_parsed_with_odd_command_names() {
        let stat = "77 (a b) c)) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 20";
        assert_eq!(parse_stat(stat), Some(('S', Some(424242))));
        assert!(proc_start_time(std::process::id()).is_some());
        assert_eq!(
            pid_state(std::process::id(), proc_start_time(std::process::id())),
            PidState::Alive { verified: true }
        );
        assert_eq!(pid_state(dead_pid(), None), PidState::Dead);
    }
}
