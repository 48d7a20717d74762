//! The run lock between two processes: a child (this test binary, re-executed) holds the
//! lock; the parent is refused, naming the child's pid; after `kill -9` of the child the
//! parent takes the stale lock over at once (same host: the pid is dead).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anesbench_run::error::RunError;
use anesbench_run::lock::{RunLock, LOCK_FILE};

const CHILD_DIR: &str = "ANESBENCH_LOCK_TEST_CHILD_DIR";
/// Set in the child: take the lock, release it and exit instead of holding it.
const CHILD_RELEASES: &str = "ANESBENCH_LOCK_TEST_CHILD_RELEASES";
const TEST_NAME: &str = "a_kill_9_holder_is_refused_while_alive_and_taken_over_after";

/// Kills the child if the test fails midway.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Child mode: take the lock, say so, and hold it (at most 60 s) until killed.
fn hold(dir: &Path) -> ! {
    let lock = RunLock::acquire(dir).expect("child acquires the lock");
    println!("LOCKED {}", std::process::id());
    if std::env::var_os(CHILD_RELEASES).is_some() {
        drop(lock);
        std::process::exit(0);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(lock);
    std::process::exit(3);
}

fn spawn_holder(dir: &Path) -> (Reap, u32) {
    let child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut child = Reap(child);
    let out = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            // libtest may have printed "test <name> ... " on the same line.
            if let Some((_, pid)) = line.split_once("LOCKED ") {
                let _ = tx.send(pid.trim().parse::<u32>().unwrap());
                break;
            }
        }
    });
    let pid = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the child did not report the lock within 30 s");
    assert_eq!(pid, child.0.id());
    (child, pid)
}

#[test]
fn a_kill_9_holder_is_refused_while_alive_and_taken_over_after() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        hold(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut child, pid) = spawn_holder(dir.path());

    let e = RunLock::acquire(dir.path()).unwrap_err();
    assert!(matches!(e, RunError::Locked { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("another run") && msg.contains(&format!("(pid {pid} on host ")),
        "{msg}"
    );

    child.0.kill().unwrap(); // SIGKILL: no Drop, the lock file stays behind
    child.0.wait().unwrap();
    assert!(dir.path().join(LOCK_FILE).exists());

    let lock = RunLock::acquire(dir.path()).expect("the dead child's lock is taken over");
    let was = lock.took_over().expect("a takeover is reported");
    assert!(
        was.contains(&format!("pid {pid} on host")) && was.contains("process gone"),
        "{was}"
    );
    let text = std::fs::read_to_string(lock.path()).unwrap();
    assert!(
        text.contains(&format!("\"pid\":{}", std::process::id())),
        "{text}"
    );
    drop(lock);
    assert!(!dir.path().join(LOCK_FILE).exists());
}

#[test]
fn a_holder_that_exits_normally_leaves_no_lock_file() {
    if std::env::var_os(CHILD_DIR).is_some() {
        return; // the child runs only the other test
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Reap(
        Command::new(std::env::current_exe().unwrap())
            .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_RELEASES, "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the child did not exit within 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let lock = RunLock::acquire(dir.path()).unwrap();
    assert_eq!(lock.took_over(), None);
}
