//! Benchmark: `restoreplan validate` on a generated 10,000-restore plan.
//!
//! Runs the real binary (built with the bench profile, i.e. release) several
//! times and prints wall time (median, max) and peak resident memory against
//! the targets: 100 ms and 100 MiB for the whole process.
//!
//! Run: `cargo bench --bench validate`

// Test and benchmark code: its items are shared between its own modules,
// it reports on stdout and stderr, and a benchmark that misses its target
// ends with a failing status.
#![allow(
    unreachable_pub,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit
)]

use std::fmt::Write as _;

#[path = "../tests/integration/support/garbage.rs"]
mod garbage;
use std::process::Command;
use std::time::{Duration, Instant};

const RESTORES: usize = 10_000;
const RUNS: usize = 15;
const TARGET_WALL: Duration = Duration::from_millis(100);
const TARGET_RSS_MIB: f64 = 100.0;

/// A plan of `n` restores with layered dependencies and a mix of overrides.
fn generate(n: usize) -> String {
    let mut s = String::with_capacity(n * 160);
    s.push_str(
        "version: 1\nname: bench-10k\nsource:\n  account: \"111122223333\"\n  region: us-east-1\n\
         target:\n  account: \"444455556666\"\n  region: us-west-2\n  vault: bench-vault\n\
         \x20 role: arn:aws:iam::444455556666:role/service-role/AWSBackupDefaultServiceRole\n\
         keys:\n  dr:\n    arn: arn:aws:kms:us-west-2:444455556666:key/mrk-1234abcd12ab34cd56ef1234567890ab\n\
         defaults:\n  recovery_point: latest\n  name: \"{table}-{plan}\"\n  encryption: { type: customer-managed, key: dr }\n\
         \x20 after_restore:\n    point_in_time_recovery: true\n    tags: { purpose: bench }\n\
         execution:\n  concurrency: 50\nrestores:\n",
    );
    for i in 0..n {
        let _ = writeln!(s, "  - table: table-{i:05}");
        // Each restore depends on up to three earlier ones: a deep, wide DAG.
        let deps: Vec<usize> = [i.wrapping_sub(1), i / 2, i.wrapping_sub(97)]
            .into_iter()
            .filter(|&d| d < i && i % 4 != 0)
            .collect();
        if !deps.is_empty() {
            let names: Vec<String> = deps.iter().map(|d| format!("table-{d:05}")).collect();
            let _ = writeln!(s, "    depends_on: [{}]", names.join(", "));
        }
        match i % 10 {
            0 => s.push_str("    encryption: { type: dynamodb-owned }\n"),
            1 => s.push_str("    recovery_point: { latest_before: \"2026-11-20T00:00:00Z\" }\n"),
            2 => s.push_str("    indexes: [by-user, by-date]\n"),
            3 => s.push_str(
                "    after_restore:\n      stream: new-image\n      tags: { tier: hot }\n",
            ),
            _ => {}
        }
    }
    s
}

fn smoke(bin: &str) {
    let dir = std::env::temp_dir().join(format!("restoreplan-bench-smoke-{}", std::process::id()));
    let plan = dir.join("bench-100.yaml");
    let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&plan, generate(100)));
    if written.is_err() {
        eprintln!("cannot write {}", plan.display());
        std::process::exit(2);
    }
    let (_, _, code) = run_once(bin, &plan);
    let _ = std::fs::remove_dir_all(&dir);
    if code != 0 {
        eprintln!("validate exited with {code} on the generated plan");
        std::process::exit(1);
    }
    println!(
        "bench smoke test: a generated 100-restore plan validates (run `cargo bench --bench validate` to measure)"
    );
}

/// Runs the command and returns its wall time and peak RSS in KiB.
fn run_once(bin: &str, plan: &std::path::Path) -> (Duration, u64, i32) {
    let start = Instant::now();
    let child = Command::new(bin)
        .args(["validate", "--date", "2026-11-20", "-q"])
        .arg(plan)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(child) = child else {
        eprintln!("failed to start {bin}");
        std::process::exit(2);
    };
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain data, zero is a valid value, and `wait4`
    // writes it for the child we just spawned and have not reaped.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if rc != pid {
        eprintln!("wait4 failed");
        std::process::exit(2);
    }
    // On Linux `ru_maxrss` is in KiB.
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (wall, usage.ru_maxrss as u64, code)
}

fn main() {
    let bin = env!("CARGO_BIN_EXE_restoreplan");
    // `cargo bench` passes `--bench`. Without it (`cargo test --all-targets`
    // runs this binary too, unoptimised) only check that a generated plan
    // validates, and measure nothing.
    if !std::env::args().any(|a| a == "--bench") {
        smoke(bin);
        return;
    }
    let dir = std::env::temp_dir().join(format!("restoreplan-bench-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        eprintln!("cannot create {}", dir.display());
        std::process::exit(2);
    }
    let plan = dir.join("bench-10k.yaml");
    let text = generate(RESTORES);
    if std::fs::write(&plan, &text).is_err() {
        eprintln!("cannot write {}", plan.display());
        std::process::exit(2);
    }
    println!(
        "plan: {} restores, {} bytes, {} lines",
        RESTORES,
        text.len(),
        text.lines().count()
    );
    // One warm-up run so the binary and the plan are in the page cache.
    let (_, _, code) = run_once(bin, &plan);
    if code != 0 {
        eprintln!("validate exited with {code}; the generated plan should be valid");
        std::process::exit(1);
    }
    let mut walls = Vec::with_capacity(RUNS);
    let mut peak = 0;
    for _ in 0..RUNS {
        let (wall, rss, _) = run_once(bin, &plan);
        walls.push(wall);
        peak = peak.max(rss);
    }
    walls.sort();
    let median = walls[RUNS / 2];
    let max = walls[RUNS - 1];
    let rss_mib = peak as f64 / 1024.0;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("runs: {RUNS} (after 1 warm-up)");
    println!(
        "wall: median {:.1} ms, max {:.1} ms  (target {} ms: median at {:.0}% of target)",
        ms(median),
        ms(max),
        TARGET_WALL.as_millis(),
        100.0 * ms(median) / ms(TARGET_WALL)
    );
    println!(
        "peak RSS: {rss_mib:.1} MiB  (target {TARGET_RSS_MIB} MiB: {:.0}% of target)",
        100.0 * rss_mib / TARGET_RSS_MIB
    );
    let ok = median <= TARGET_WALL && rss_mib <= TARGET_RSS_MIB;
    println!(
        "result: {}",
        if ok { "within target" } else { "OVER TARGET" }
    );
    let garbage_ok = garbage_formats(bin, &dir);
    println!(
        "result (garbage input): {}",
        if garbage_ok {
            "within target"
        } else {
            "OVER TARGET"
        }
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Garbage input: a 5 MB base64 file in every output format, each under
/// 1 s and 64 KiB of output (stdout and stderr together).
fn garbage_formats(bin: &str, dir: &std::path::Path) -> bool {
    const TARGET: Duration = Duration::from_secs(1);
    const TARGET_BYTES: usize = 64 * 1024;
    let mut ok = true;
    for (name, line) in [("wrapped", 76), ("one-line", 0)] {
        let path = dir.join(format!("garbage-{name}.yaml"));
        if std::fs::write(&path, garbage::base64(5_000_000, line)).is_err() {
            eprintln!("cannot write {}", path.display());
            std::process::exit(2);
        }
        for format in ["human", "json", "github"] {
            let mut walls = Vec::new();
            let mut bytes = 0;
            for _ in 0..5 {
                let start = Instant::now();
                let out = Command::new(bin)
                    .args(["validate", "--format", format])
                    .arg(&path)
                    .output();
                walls.push(start.elapsed());
                let Ok(out) = out else {
                    eprintln!("failed to start {bin}");
                    std::process::exit(2);
                };
                bytes = out.stdout.len() + out.stderr.len();
            }
            walls.sort();
            let median = walls[walls.len() / 2];
            ok &= median <= TARGET && bytes <= TARGET_BYTES;
            println!(
                "garbage {name} 5 MB, --format {format}: median {:.0} ms (target {} ms), output {bytes} bytes (target {TARGET_BYTES})",
                median.as_secs_f64() * 1000.0,
                TARGET.as_millis()
            );
        }
    }
    ok
}
