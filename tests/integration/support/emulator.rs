//! The local AWS emulator, started once per test binary.
//!
//! `tests/emulator/serve --port 0` installs its own virtualenv on first use
//! and prints `restoreplan-emulator listening on http://127.0.0.1:PORT` when
//! ready. The child is started from a thread that lives as long as the test
//! process and is killed with it (`PR_SET_PDEATHSIG`), so no emulator
//! outlives a test run. Tests isolate themselves by using their own account
//! ids ([`Emulator::fresh_account`]) rather than resetting shared state.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// Where every emulator's clock starts (`serve --now`), and with it the
/// clock of every binary a test runs (`RESTOREPLAN_NOW`): nothing a test
/// checks depends on the day it runs on.
pub const CLOCK_START: &str = "2026-11-24T08:30:00Z";

/// A running emulator.
pub struct Emulator {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    next_account: AtomicU64,
    /// The emulator's time when `clock_read` was taken.
    clock_at: DateTime<Utc>,
    clock_read: Instant,
}

static SHARED: OnceLock<Emulator> = OnceLock::new();

/// The emulator shared by every test of this binary.
pub fn shared() -> &'static Emulator {
    SHARED.get_or_init(|| {
        // The adapter's ambient credentials: static keys the emulator maps to
        // its default account. Set before any client exists, inside the one
        // initialisation every emulator test waits for.
        for (k, v) in [
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ] {
            // SAFETY: no other thread reads these variables before this
            // initialisation completes (every reader calls `shared()` first).
            unsafe { std::env::set_var(k, v) };
        }
        Emulator::start(&[])
    })
}

impl Emulator {
    /// Starts an emulator with extra `serve` options (each test binary
    /// normally uses [`shared`]; tests that reconfigure faults start their own).
    pub fn start(options: &[&str]) -> Emulator {
        let serve = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/serve");
        let options: Vec<String> = options.iter().map(|s| s.to_string()).collect();
        let (tx, rx) = mpsc::channel::<Result<String, String>>();
        // The thread that spawns the child must outlive it: PDEATHSIG fires
        // when the spawning thread exits, not the process.
        std::thread::spawn(move || {
            let mut cmd = Command::new("bash");
            cmd.arg(&serve)
                .args(["--port", "0", "--now", CLOCK_START])
                .args(&options)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            #[cfg(target_os = "linux")]
            unsafe {
                use std::os::unix::process::CommandExt;
                // SAFETY: prctl is async-signal-safe and touches only this child.
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let mut child = match cmd.spawn() {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Err(format!("could not start {}: {e}", serve.display())));
                    return;
                }
            };
            let Some(stdout) = child.stdout.take() else {
                let _ = tx.send(Err("the emulator has no stdout".into()));
                return;
            };
            let mut lines = BufReader::new(stdout).lines();
            let mut sent = false;
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("restoreplan-emulator listening on ") {
                    let _ = tx.send(Ok(url.trim().to_owned()));
                    sent = true;
                    break;
                }
            }
            if !sent {
                let status = child.wait();
                let _ = tx.send(Err(format!(
                    "the emulator exited before it was ready: {status:?}"
                )));
                return;
            }
            // Keep draining stdout so the child never blocks on a full pipe.
            for _ in lines {}
            let _ = child.wait();
        });
        // The first start installs the virtualenv, which can take a minute.
        let endpoint = match rx.recv_timeout(Duration::from_secs(600)) {
            Ok(Ok(url)) => url,
            Ok(Err(e)) => panic!("{e}"),
            Err(e) => panic!("the emulator did not start in time: {e}"),
        };
        // Read the emulator's own clock once: from then on the harness and
        // the binaries it runs keep time with it. The instant is taken before
        // the request, so the harness is never behind the emulator (an age
        // of exactly 3 days must not read as 2d 23h), only ahead by the
        // round trip.
        let clock_read = Instant::now();
        let health = http("GET", &format!("{endpoint}/_restoreplan/health"), None);
        let clock_at = health["now"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| panic!("the emulator reports its time: {health}"));
        Emulator {
            endpoint,
            next_account: AtomicU64::new(1),
            clock_at,
            clock_read,
        }
    }

    /// The emulator's current time (on the clock that starts at [`CLOCK_START`]).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock_at + chrono::Duration::from_std(self.clock_read.elapsed()).unwrap_or_default()
    }

    /// Live-check options on the emulator's clock, for in-process checks.
    pub fn live_options(&self) -> restoreplan::check::live::LiveOptions {
        restoreplan::check::live::LiveOptions {
            now: self.now(),
            ..Default::default()
        }
    }

    /// [`Emulator::now`] in seconds since the epoch, as the request log has it.
    pub fn now_secs(&self) -> f64 {
        self.now().timestamp_millis() as f64 / 1000.0
    }

    /// A 12-digit account id no other test of this process uses.
    pub fn fresh_account(&self) -> String {
        let n = self.next_account.fetch_add(1, Ordering::Relaxed);
        format!(
            "{:012}",
            200_000_000_000 + u64::from(std::process::id()) % 1000 * 100_000 + n
        )
    }

    /// The role tests assume to act in `account`.
    pub fn role(account: &str) -> String {
        format!("arn:aws:iam::{account}:role/restoreplan-test")
    }

    /// GET a control endpoint and parse its JSON.
    pub fn control(&self, path: &str) -> serde_json::Value {
        http("GET", &format!("{}{path}", self.endpoint), None)
    }

    /// DELETE a control endpoint.
    pub fn delete(&self, path: &str) -> serde_json::Value {
        http("DELETE", &format!("{}{path}", self.endpoint), None)
    }

    /// POST JSON to a control endpoint.
    pub fn post(&self, path: &str, body: &serde_json::Value) -> serde_json::Value {
        http("POST", &format!("{}{path}", self.endpoint), Some(body))
    }
}

/// A tiny blocking HTTP/1.1 client for the control endpoints (no extra
/// dependency: the SDK's client is async and AWS-specific).
fn http(method: &str, url: &str, body: Option<&serde_json::Value>) -> serde_json::Value {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("control URLs are http");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(host).expect("connect to the emulator");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write request");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read response");
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{method} {url}: not JSON ({e}): {head}\n{body}"))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
