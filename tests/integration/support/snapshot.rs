//! Snapshot settings for output read from a seeded emulator: fresh account
//! ids become names, and ids, times and ages that change from run to run
//! are filtered out.

/// Settings that replace each `(account id, name)` pair's id with `[NAME]`
/// and filter every volatile value the plan and audit renderers print, with
/// snapshots under `snapshots/` named without the module.
pub fn settings(accounts: &[(&str, &str)]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    // DynamoDB backup ids (`01795507439560-a50c94e5`) first: their digits
    // must not be taken for an account id.
    s.add_filter(r"\b\d{14}-[0-9a-f]{8}\b", "[BACKUP-ID]");
    for (id, name) in accounts {
        s.add_filter(&regex_escape(id), format!("[{name}]"));
    }
    s.add_filter(r"recovery-point:[0-9A-Za-z-]+", "recovery-point:[ID]");
    s.add_filter(r"`…[0-9a-f]{12}`", "`…[ID]`");
    s.add_filter(r"key/mrk-[0-9a-f-]+", "key/mrk-[ID]");
    s.add_filter(r"key/[0-9a-f]{8}-[0-9a-f-]{27}", "key/[ID]");
    s.add_filter(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[TIME]",
    );
    s.add_filter(r"\b[0-9a-f]{64}\b", "[DIGEST]");
    s.add_filter(r"(\d+[smhd] )?\d+[smhd] old", "[AGE] old");
    s.add_filter(r"age (\d+[smhd] )?\d+[smhd]", "age [AGE]");
    s.add_filter(r"` \| (\d+[smhd] )?\d+[smhd]( ⛔)? \|", "` | [AGE] |");
    s.add_filter(r#""age_seconds": \d+"#, r#""age_seconds": "[AGE]""#);
    s.add_filter(
        r"assumed-role/restoreplan-test/[A-Za-z0-9_=,.@-]+",
        "assumed-role/restoreplan-test/[SESSION]",
    );
    // Relative to the file that asserts: the test modules beside `support/`.
    s.set_snapshot_path("snapshots");
    s.set_prepend_module_to_snapshot(false);
    s
}

/// `s` as a regular expression that matches only itself.
pub fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}
