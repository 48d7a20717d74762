//! An exclusive lock on a run directory, so two runs never append to one `samples.jsonl`.
//!
//! The lock is an OS advisory lock (`flock`) on `<run>/.lock`: the kernel drops it when
//! the holder exits, even after `kill -9`, so there is no stale lock to clean up. The
//! file also holds the holder's pid for the error message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::RunError;

pub const LOCK_FILE: &str = ".lock";

/// Held for as long as the run writes the directory; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    path: PathBuf,
}

impl RunLock {
    pub fn acquire(dir: &Path) -> Result<RunLock, RunError> {
        let path = dir.join(LOCK_FILE);
        let io = |e: std::io::Error| RunError::io(&path, e);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let who = if holder.is_empty() {
                    String::new()
                } else {
                    format!(" (pid {holder})")
                };
                return Err(RunError::Locked {
                    dir: dir.to_path_buf(),
                    holder: who,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        Ok(RunLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let a = RunLock::acquire(dir.path()).unwrap();
        let e = RunLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("another run") && e.contains(&std::process::id().to_string()),
            "{e}"
        );
        drop(a);
        RunLock::acquire(dir.path()).unwrap();
    }
}
