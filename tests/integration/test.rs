//! A small fluent builder for running the binary (after casey/just's `tests/test.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::emulator::{CLOCK_START, Emulator};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One run of the binary: arguments, files in a fresh directory, expectations.
pub struct Test {
    dir: tempfile::TempDir,
    cwd: Option<PathBuf>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    status: i32,
}

/// What a run produced.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

impl Test {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory can be created"),
            cwd: None,
            args: Vec::new(),
            env: Vec::new(),
            status: 0,
        }
    }

    /// Appends arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the run.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    /// Points the binary at the emulator with its static test credentials,
    /// and nothing from the AWS configuration of the machine.
    pub fn emulator(self, em: &Emulator) -> Self {
        self.env("AWS_ENDPOINT_URL", &em.endpoint)
            .env(
                "RESTOREPLAN_NOW",
                em.now()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            )
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    }

    /// `--role ACCOUNT=…` into each account, as the emulator's test role.
    pub fn roles(mut self, accounts: &[&str]) -> Self {
        for a in accounts {
            self.args.push("--role".into());
            self.args.push(format!("{a}={}", Emulator::role(a)));
        }
        self
    }

    /// Writes a file into the test directory (the working directory).
    pub fn write(self, name: &str, contents: impl AsRef<[u8]>) -> Self {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("the test file can be written");
        self
    }

    /// Runs in this directory instead of the temporary one.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    /// The temporary directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The expected exit status (default 0).
    pub fn status(mut self, status: i32) -> Self {
        self.status = status;
        self
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_restoreplan"));
        cmd.args(&self.args)
            .current_dir(self.cwd.as_deref().unwrap_or(self.dir.path()))
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .env_remove("RESTOREPLAN_LOG")
            .env_remove("RESTOREPLAN_DATE")
            // Every run starts on the harness's clock, not the day it runs on
            // (`Test::emulator` moves it to the emulator's time).
            .env("RESTOREPLAN_NOW", CLOCK_START)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_DEFAULT_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    /// Starts the binary without waiting for it (to kill it mid-run), in
    /// the directory set with [`Test::current_dir`]; its stdout and stderr
    /// go to `log`.
    pub fn spawn(self, log: &Path) -> std::process::Child {
        assert!(
            self.cwd.is_some(),
            "a spawned run needs a lasting directory"
        );
        let file = std::fs::File::create(log).expect("the log file can be created");
        let err = file.try_clone().expect("the log file can be shared");
        self.command()
            .stdout(file)
            .stderr(err)
            .spawn()
            .expect("the binary starts")
    }

    /// Runs the binary with stdout a pipe whose reader has already gone
    /// (as after `| head -1`); returns the exit status and stderr.
    pub fn run_closed_stdout(self) -> (i32, String) {
        let mut fds = [0i32; 2];
        // SAFETY: `pipe` fills two descriptors; both are owned below.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
        // SAFETY: the read end is ours and closed once.
        unsafe { libc::close(fds[0]) };
        // SAFETY: the write end is a fresh descriptor owned by nothing else.
        let writer =
            unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) };
        let out = self
            .command()
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .expect("the binary runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs the binary, checks the status, returns the output.
    pub fn run(self) -> Output {
        let out = self.command().output().expect("the binary runs");
        let output = Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            status: out.status.code().unwrap_or(-1),
        };
        assert_eq!(
            output.status, self.status,
            "unexpected exit status for {:?}\nstdout:\n{}\nstderr:\n{}",
            self.args, output.stdout, output.stderr
        );
        output
    }
}
