//! Running the real `restoreplan` binary: a small fluent builder.

use std::path::Path;
use std::process::Command;

use super::emulator::Emulator;

/// What a run produced.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// A `restoreplan` invocation being built.
pub struct Restoreplan {
    cmd: Command,
}

impl Restoreplan {
    /// `restoreplan ARGS…` with no colour and no AWS configuration from the
    /// environment of the test run.
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(args: I) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_restoreplan"));
        cmd.args(args).arg("--color").arg("never");
        for var in [
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_ENDPOINT_URL",
            "RESTOREPLAN_DATE",
        ] {
            cmd.env_remove(var);
        }
        Self { cmd }
    }

    /// Points the binary at the emulator with its static test credentials.
    pub fn emulator(mut self, em: &Emulator) -> Self {
        self.cmd
            .env("AWS_ENDPOINT_URL", &em.endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
        self
    }

    /// `--role ACCOUNT=…` into each account, as the emulator's test role.
    pub fn roles(mut self, accounts: &[&str]) -> Self {
        for a in accounts {
            self.cmd
                .arg("--role")
                .arg(format!("{a}={}", Emulator::role(a)));
        }
        self
    }

    /// One more argument.
    pub fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.arg(a);
        self
    }

    /// Runs it in `dir`.
    pub fn run_in(mut self, dir: &Path) -> Run {
        let out = self
            .cmd
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("could not run restoreplan: {e}"));
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
