//! Running the user's programs (`password_cmd`, reminder commands) with a
//! time limit: a program that hangs is killed, with everything it started,
//! and never holds kronika up. A [`Shutdown`] ends it early.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::shutdown::Shutdown;

/// Why a program did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot run {program}: {source}")]
    Start { program: String, source: std::io::Error },
    #[error("cannot wait for {program}: it ran longer than {}s and was stopped", .limit.as_secs())]
    TimedOut { program: String, limit: Duration },
    #[error("cannot wait for {program}: kronika is stopping")]
    Stopped { program: String },
    #[error("cannot wait for {program}: {source}")]
    Wait { program: String, source: std::io::Error },
}

/// What a program left behind.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// At most this much of a program's output is kept.
const MAX_OUTPUT: u64 = 1 << 20;

/// Runs `command` with `input` on its standard input; waits at most
/// `limit` (and not past `stop`). The program runs in a process group of
/// its own, so a shell's children are stopped with it.
pub fn run_bounded(
    mut command: Command,
    input: Option<&[u8]>,
    limit: Duration,
    stop: Option<&Shutdown>,
) -> Result<Finished, RunError> {
    let program = command.get_program().to_string_lossy().into_owned();
    command
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let mut child = command.spawn().map_err(|source| RunError::Start { program: program.clone(), source })?;
    // Pipes are served by threads: a program that reads slowly, or writes
    // much, can neither block kronika nor itself.
    let writer = match (child.stdin.take(), input) {
        (Some(mut stdin), Some(bytes)) => {
            let bytes = bytes.to_vec();
            Some(std::thread::spawn(move || {
                // A program that exits without reading is not an error here.
                let _ = stdin.write_all(&bytes);
            }))
        }
        _ => None,
    };
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(MAX_OUTPUT).read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = read(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = read(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(source) => {
                kill(&mut child);
                return Err(RunError::Wait { program, source });
            }
        }
        if stop.is_some_and(Shutdown::is_triggered) {
            kill(&mut child);
            return Err(RunError::Stopped { program });
        }
        if started.elapsed() >= limit {
            kill(&mut child);
            return Err(RunError::TimedOut { program, limit });
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(w) = writer {
        // A grandchild may hold stdin open without reading: not waited for.
        join_within(w, Duration::from_secs(1));
    }
    // A grandchild may still hold the pipes open; its output is not waited for.
    let stdout = join_within(stdout, Duration::from_secs(1));
    let stderr = join_within(stderr, Duration::from_secs(1));
    Ok(Finished { status, stdout, stderr })
}

/// Stops the program and its process group, and reaps it.
fn kill(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals the process group the
        // child leads (process_group(0) above); no memory is involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn join_within<T: Default>(handle: std::thread::JoinHandle<T>, limit: Duration) -> T {
    let deadline = Instant::now() + limit;
    while !handle.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if handle.is_finished() { handle.join().unwrap_or_default() } else { T::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script);
        c
    }

    #[test]
    fn output_and_input_pass_through() {
        let f = run_bounded(sh("cat; echo done"), Some(b"hello "), Duration::from_secs(10), None).unwrap();
        assert!(f.status.success());
        assert_eq!(String::from_utf8_lossy(&f.stdout), "hello done\n");
    }

    #[test]
    fn a_program_that_hangs_is_stopped_with_its_children() {
        let t = Instant::now();
        let e = run_bounded(sh("sleep 600 & sleep 600"), None, Duration::from_millis(300), None).unwrap_err();
        assert!(matches!(e, RunError::TimedOut { .. }), "{e}");
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(e.to_string().contains("longer than 0s"), "{e}");
    }

    #[test]
    fn shutdown_ends_it_early() {
        let stop = Shutdown::new();
        stop.trigger();
        let e = run_bounded(sh("sleep 600"), None, Duration::from_secs(600), Some(&stop)).unwrap_err();
        assert!(matches!(e, RunError::Stopped { .. }), "{e}");
    }

    #[test]
    fn a_missing_program_is_named() {
        let e = run_bounded(Command::new("/nonexistent/kronika-x"), None, Duration::from_secs(1), None).unwrap_err();
        assert!(e.to_string().starts_with("cannot run /nonexistent/kronika-x"), "{e}");
    }
}
