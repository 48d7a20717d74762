//! Wall time and peak resident memory of a child process, read with `wait4` so each
//! child is measured on its own (`getrusage(RUSAGE_CHILDREN)` would mix children).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Measured {
    pub success: bool,
    pub exit: String,
    pub wall: Duration,
    /// Peak resident set size in bytes (`ru_maxrss`).
    pub peak_rss: u64,
    pub stdout: String,
    pub stderr: String,
}

/// Run `cmd` to completion, capturing its output, and measure it.
pub fn run_measured(mut cmd: Command) -> std::io::Result<Measured> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let (status, rss) = wait4(child.id() as libc::pid_t)?;
    let wall = start.elapsed();
    let stdout = t_out.join().unwrap_or_default();
    let stderr = t_err.join().unwrap_or_default();
    let success = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    let exit = if libc::WIFEXITED(status) {
        format!("exit code {}", libc::WEXITSTATUS(status))
    } else {
        format!("signal {}", libc::WTERMSIG(status))
    };
    // The child was reaped by wait4; std's handle must not wait for it again.
    std::mem::forget(child);
    Ok(Measured {
        success,
        exit,
        wall,
        peak_rss: rss,
        stdout,
        stderr,
    })
}

#[allow(unsafe_code)] // wait4 is the only call that gives one child's rusage; pointers are to locals.
fn wait4(pid: libc::pid_t) -> std::io::Result<(i32, u64)> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; zeroed is a valid value and wait4 fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals that outlive the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            // Linux reports ru_maxrss in kilobytes.
            return Ok((status, ru.ru_maxrss.max(0) as u64 * 1024));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_child_that_allocates() {
        let mut small = Command::new("python3");
        small.args(["-c", "print('hi')"]);
        let Ok(a) = run_measured(small) else { return };
        let mut big = Command::new("python3");
        big.args([
            "-c",
            "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); print(len(b))",
        ]);
        let b = run_measured(big).unwrap();
        assert!(a.success && b.success, "{} {}", a.stderr, b.stderr);
        assert_eq!(a.stdout.trim(), "hi");
        assert!(
            b.peak_rss > a.peak_rss + 150 * 1024 * 1024,
            "{} vs {}",
            b.peak_rss,
            a.peak_rss
        );
    }
}
