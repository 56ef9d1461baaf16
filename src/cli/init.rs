//! `restoreplan init`: write a starting plan from the source account.
//! Read-only; prints the plan, or writes it to `--out` (never over an
//! existing file without `--force`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;

use crate::cli::aws::{AwsArgs, block_on};
use crate::cli::{ExitStatus, Output};
use crate::init::survey::scope;
use crate::init::write::Style;
use crate::init::{Request, survey, write};

/// Arguments of `init`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Account of the original tables.
    #[arg(long, value_name = "ACCOUNT")]
    pub source_account: String,
    /// Region of the original tables.
    #[arg(long, value_name = "REGION")]
    pub source_region: String,
    /// Account where restores run (default: the source account).
    #[arg(long, value_name = "ACCOUNT")]
    pub target_account: Option<String>,
    /// Region where restores run (default: the source Region).
    #[arg(long, value_name = "REGION")]
    pub target_region: Option<String>,
    /// AWS Backup vault in the target account and Region to find recovery points in.
    #[arg(long, value_name = "VAULT")]
    pub vault: Option<String>,
    /// The IAM role AWS Backup assumes for restores (`--role ARN`); or, as
    /// `ACCOUNT=ROLE_ARN`, a role to read that account with (repeatable).
    #[arg(long = "role", value_name = "ARN | ACCOUNT=ROLE_ARN")]
    pub roles: Vec<String>,
    /// Use a named profile for one account: `ACCOUNT=PROFILE` (repeatable).
    #[arg(long = "profile", value_name = "ACCOUNT=PROFILE")]
    pub profiles: Vec<String>,
    /// Send every AWS call to this endpoint (a local emulator).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Only tables whose name matches this glob (repeatable; any one matches).
    #[arg(long = "match", value_name = "GLOB")]
    pub matches: Vec<String>,
    /// Leave out tables whose name matches this glob (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    pub excludes: Vec<String>,
    /// Only tables with this tag (repeatable; all must be present).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Write `select:` blocks instead of one restore per table.
    #[arg(long)]
    pub selectors: bool,
    /// Write the plan to this file instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Overwrite `--out` when it exists.
    #[arg(long)]
    pub force: bool,
}

fn pair(s: &str, what: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not {what}")),
    }
}

/// Runs `init`.
pub fn run(args: &Args, out: Output) -> crate::cli::Result {
    run_inner(args, out).map_err(crate::cli::Error::Message)
}

fn run_inner(args: &Args, out: Output) -> Result<ExitStatus, String> {
    if let Some(path) = &args.out
        && path.exists()
        && !args.force
    {
        return Err(format!(
            "{} exists; nothing was written (pass --force to overwrite it)",
            path.display()
        ));
    }
    let source = scope(&args.source_account, &args.source_region)?;
    let target = scope(
        args.target_account
            .as_deref()
            .unwrap_or(&args.source_account),
        args.target_region.as_deref().unwrap_or(&args.source_region),
    )?;
    let mut aws = AwsArgs {
        endpoint_url: args.endpoint_url.clone(),
        ..AwsArgs::default()
    };
    let mut backup_role = None;
    for r in &args.roles {
        match r.split_once('=') {
            Some(_) => aws.roles.push(pair(r, "ACCOUNT=ROLE_ARN")?),
            None if r.starts_with("arn:") => backup_role = Some(r.clone()),
            None => return Err(format!("`{r}` is neither a role ARN nor ACCOUNT=ROLE_ARN")),
        }
    }
    for p in &args.profiles {
        aws.profiles.push(pair(p, "ACCOUNT=PROFILE")?);
    }
    let mut tags = BTreeMap::new();
    for t in &args.tags {
        let (k, v) = pair(t, "KEY=VALUE")?;
        tags.insert(k, v);
    }
    let req = Request {
        source,
        target,
        vault: args.vault.clone(),
        matches: args.matches.clone(),
        excludes: args.excludes.clone(),
        tags,
        parallelism: 16,
    };
    let cloud = aws.read_only();
    let found = block_on(survey(&req, &cloud))??;
    let text = write(
        &req,
        &found,
        &Style {
            command: command_line(args),
            role: backup_role,
            selectors: args.selectors,
        },
    )?;
    match &args.out {
        None => crate::cli::printer::out(&text),
        Some(path) => {
            let mut open = std::fs::OpenOptions::new();
            open.write(true);
            if args.force {
                open.create(true).truncate(true);
            } else {
                // Never over a file that appeared since the check above.
                open.create_new(true);
            }
            open.open(path)
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .map_err(|e| format!("failed to write {}: {e}", path.display()))?;
            if !out.quiet {
                crate::errln!(
                    "wrote {} ({} tables); next: restoreplan validate --live {}",
                    path.display(),
                    found.tables.len(),
                    path.display()
                );
            }
        }
    }
    Ok(ExitStatus::Success)
}

/// The flags that shaped the plan, for its header comment (no credentials).
fn command_line(args: &Args) -> String {
    let mut s = format!(
        "restoreplan init --source-account {} --source-region {}",
        args.source_account, args.source_region
    );
    for (flag, v) in [
        ("--target-account", &args.target_account),
        ("--target-region", &args.target_region),
        ("--vault", &args.vault),
    ] {
        if let Some(v) = v {
            s.push_str(&format!(" {flag} {v}"));
        }
    }
    for m in &args.matches {
        s.push_str(&format!(" --match '{m}'"));
    }
    for e in &args.excludes {
        s.push_str(&format!(" --exclude '{e}'"));
    }
    for t in &args.tags {
        s.push_str(&format!(" --tag {t}"));
    }
    if args.selectors {
        s.push_str(" --selectors");
    }
    s
}
