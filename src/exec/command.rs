//! `after_restore.verify.command`: a user's check, run as a child process
//! in a process group of its own, with the environment it is given, its
//! standard output and error captured line by line as they come (the last
//! lines kept, bounded),
//! and the whole group killed when its time is up or when the run stops
//! waiting for it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::events::Check;

/// Output lines kept as evidence.
pub const TAIL_LINES: usize = 10;

/// Characters kept of one output line.
pub const LINE_CHARS: usize = 200;

/// Names of the check a command reports.
pub const CHECK_NAME: &str = "command";

/// Variables of the parent's environment a command never inherits: each
/// could make an AWS client act as another identity than the one the
/// command is given.
pub const WITHHELD: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// It exited with this status.
    Exited(i32),
    /// A signal ended it.
    Signalled(i32),
    /// Its time ran out; it and its process group were killed.
    TimedOut,
    /// It could not be started.
    NotStarted(String),
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub ending: Ending,
    /// Its last output lines (standard output and error, line by line as
    /// they were read).
    pub tail: Vec<String>,
    /// Output lines in all.
    pub lines: u64,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Outcome {
    /// True when it exited 0.
    pub fn passed(&self) -> bool {
        self.ending == Ending::Exited(0)
    }

    /// The check it is, with `shown` (the command as written) and `limit`
    /// (its time, as the plan wrote it) in the evidence.
    pub fn check(&self, shown: &str, limit: Option<&str>) -> Check {
        let took = format!("{:.1}s", self.elapsed.as_secs_f64());
        let mut detail = match &self.ending {
            Ending::Exited(0) => format!("`{shown}` exited 0 after {took}"),
            Ending::Exited(code) => format!("`{shown}` exited with status {code} after {took}"),
            Ending::Signalled(sig) => format!("`{shown}` was ended by signal {sig} after {took}"),
            Ending::TimedOut => format!(
                "`{shown}` did not finish within the verification's timeout{}: it and its \
                 process group were killed after {took}",
                limit.map(|l| format!(" of {l}")).unwrap_or_default()
            ),
            Ending::NotStarted(why) => format!("`{shown}` could not be started: {why}"),
        };
        if !self.tail.is_empty() {
            let shown_lines = self.tail.len() as u64;
            if self.lines > shown_lines {
                detail.push_str(&format!(
                    "; last {shown_lines} of {} output lines:",
                    self.lines
                ));
            } else {
                detail.push_str("; output:");
            }
            for l in &self.tail {
                detail.push_str("\n  ");
                detail.push_str(l);
            }
        } else if !matches!(self.ending, Ending::NotStarted(_)) {
            detail.push_str("; no output");
        }
        Check {
            name: CHECK_NAME.to_owned(),
            passed: self.passed(),
            detail,
        }
    }
}

/// The last lines of a stream.
#[derive(Default)]
struct Tail {
    lines: VecDeque<String>,
    total: u64,
}

impl Tail {
    fn push(&mut self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_end_matches(['\n', '\r']);
        let mut line: String = text.chars().take(LINE_CHARS).collect();
        if text.chars().count() > LINE_CHARS {
            line.push('…');
        }
        self.total += 1;
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }
}

/// Kills a process group when dropped, unless disarmed: a command is never
/// left running when the run stops waiting for it.
struct Group {
    pgid: Option<u32>,
}

impl Group {
    fn kill(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            kill_group(pgid);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(unix)]
fn kill_group(pgid: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid)
        && pgid > 1
    {
        // SAFETY: killpg has no memory effects; a group already gone
        // answers ESRCH, which changes nothing.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}

#[cfg(not(unix))]
fn kill_group(_pgid: u32) {}

/// Runs `argv` with `env` set on top of the parent's environment (less
/// [`WITHHELD`]), for at most `limit`; the whole process group is killed at
/// the limit, when the command exits (so nothing it started stays behind),
/// and when the returned future is dropped.
pub async fn run(argv: &[String], env: &[(String, String)], limit: Option<Duration>) -> Outcome {
    let started = Instant::now();
    let not_started = |why: String| Outcome {
        ending: Ending::NotStarted(why),
        tail: Vec::new(),
        lines: 0,
        elapsed: started.elapsed(),
    };
    let Some((program, args)) = argv.split_first() else {
        return not_started("the command names no program".to_owned());
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for k in WITHHELD {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return not_started(e.to_string()),
    };
    let mut group = Group { pgid: child.id() };
    let tail = Arc::new(Mutex::new(Tail::default()));
    // Standard output and error, each line as it comes.
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(read_lines(out, Arc::clone(&tail))));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(read_lines(err, Arc::clone(&tail))));
    }
    let waited = match limit {
        Some(l) => tokio::time::timeout(l, child.wait()).await.ok(),
        None => Some(child.wait().await),
    };
    let ending = match waited {
        None => {
            group.kill();
            let _ = child.wait().await;
            Ending::TimedOut
        }
        Some(Ok(status)) => {
            group.kill();
            exit_ending(status)
        }
        Some(Err(e)) => {
            group.kill();
            let _ = child.wait().await;
            Ending::NotStarted(format!("waiting for it failed: {e}"))
        }
    };
    // The output's last bytes, if something outside the group still holds
    // a pipe, are not waited for long.
    let _ = tokio::time::timeout(
        Duration::from_millis(500),
        futures::future::join_all(readers.iter_mut()),
    )
    .await;
    for r in &readers {
        r.abort();
    }
    let t = tail.lock().unwrap_or_else(|e| e.into_inner());
    Outcome {
        ending,
        tail: t.lines.iter().cloned().collect(),
        lines: t.total,
        elapsed: started.elapsed(),
    }
}

/// Reads `stream` line by line into `tail` until its end.
async fn read_lines(stream: impl tokio::io::AsyncRead + Unpin, tail: Arc<Mutex<Tail>>) {
    use tokio::io::AsyncBufReadExt;
    let mut r = tokio::io::BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match r.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => tail.lock().unwrap_or_else(|e| e.into_inner()).push(&buf),
        }
    }
}

#[cfg(unix)]
fn exit_ending(status: std::process::ExitStatus) -> Ending {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => Ending::Exited(c),
        (None, Some(s)) => Ending::Signalled(s),
        (None, None) => Ending::Exited(-1),
    }
}

#[cfg(not(unix))]
fn exit_ending(status: std::process::ExitStatus) -> Ending {
    Ending::Exited(status.code().unwrap_or(-1))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["/bin/sh".to_owned(), "-c".to_owned(), script.to_owned()]
    }

    #[tokio::test]
    async fn exit_status_and_last_lines_are_the_evidence() {
        let o = run(
            &sh("for i in $(seq 1 15); do echo out $i; done; echo err >&2; exit 3"),
            &[],
            None,
        )
        .await;
        assert_eq!(o.ending, Ending::Exited(3));
        assert_eq!(o.lines, 16);
        assert_eq!(o.tail.len(), TAIL_LINES);
        // The two streams are read apart: each in its own order.
        assert!(o.tail.iter().any(|l| l == "err"), "{o:?}");
        assert!(o.tail.iter().any(|l| l == "out 15"), "{o:?}");
        let c = o.check("check.sh", None);
        assert!(!c.passed);
        assert!(
            c.detail.contains("exited with status 3") && c.detail.contains("last 10 of 16"),
            "{}",
            c.detail
        );
    }

    #[tokio::test]
    async fn the_environment_is_given_and_ambient_credentials_withheld() {
        let env = vec![
            ("RESTOREPLAN_RESTORE_ID".to_owned(), "ledger".to_owned()),
            ("AWS_ACCESS_KEY_ID".to_owned(), "AKIDTARGET".to_owned()),
        ];
        let o = run(
            &sh("echo \"$RESTOREPLAN_RESTORE_ID $AWS_ACCESS_KEY_ID ${AWS_PROFILE:-none}\""),
            &env,
            None,
        )
        .await;
        assert!(o.passed(), "{o:?}");
        assert_eq!(o.tail, ["ledger AKIDTARGET none"]);
    }

    #[tokio::test]
    async fn a_hanging_command_and_its_children_are_killed_at_the_limit() {
        let dir = std::env::temp_dir().join(format!("rp-cmd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("child.pid");
        let script = format!(
            "sleep 300 & echo $! > {}; echo started; wait",
            pidfile.display()
        );
        let o = run(&sh(&script), &[], Some(Duration::from_millis(800))).await;
        assert_eq!(o.ending, Ending::TimedOut);
        assert!(o.elapsed < Duration::from_secs(5), "{o:?}");
        assert_eq!(o.tail, ["started"]);
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        let pid = pid.trim();
        // The grandchild is gone (or a zombie about to be reaped by init).
        let gone = (0..50).any(|_| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            if stat.is_empty() || state.starts_with('Z') {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
            false
        });
        assert!(gone, "the background child {pid} outlived its group");
        let c = o.check("hang.sh", Some("1s"));
        assert!(!c.passed && c.detail.contains("process group were killed"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_missing_program_is_reported() {
        let o = run(&["/nonexistent/check".to_owned()], &[], None).await;
        assert!(matches!(o.ending, Ending::NotStarted(_)));
        assert!(!o.check("/nonexistent/check", None).passed);
    }
}
