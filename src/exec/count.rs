//! Item-count verification of a restored table.
//!
//! AWS reports item counts only approximately: a DynamoDB backup's
//! `ItemCount` is its table's `ItemCount` when the backup was taken, and a
//! table's `ItemCount` is refreshed about every six hours, so a table
//! restored a minute ago may still report 0. Two such numbers are never
//! compared for equality. Instead:
//!
//! - the restored table is counted exactly with `Scan` (`Select=COUNT`) when
//!   it is small: at most [`EXACT_COUNT_MAX_PAGES`] pages of 1 MB, and only
//!   when the recovery point is at most [`EXACT_COUNT_MAX_BYTES`];
//! - the count found (exact, or else the table's `ItemCount` when AWS has
//!   refreshed it since the restore) must be within [`tolerance`] of the
//!   recovery point's approximate count;
//! - when neither is known well enough, the check says so and passes: a
//!   restore never fails merely because a count is stale.

use crate::cloud::{ItemTally, TableFacts};

use super::events::Check;

/// Most `Scan` pages read to count a table exactly (each reads up to 1 MB).
pub const EXACT_COUNT_MAX_PAGES: u32 = 64;

/// Largest recovery point (bytes) whose restored table is counted with `Scan`.
pub const EXACT_COUNT_MAX_BYTES: u64 = 64 << 20;

/// Deviation always allowed, in items.
pub const ABSOLUTE_TOLERANCE: u64 = 10;

/// Deviation allowed relative to the recovery point's count.
pub const RELATIVE_TOLERANCE: f64 = 0.5;

/// Items by which a count may differ from the recovery point's approximate
/// `expected` count: the larger of [`ABSOLUTE_TOLERANCE`] and
/// [`RELATIVE_TOLERANCE`] × `expected`.
pub fn tolerance(expected: u64) -> u64 {
    ABSOLUTE_TOLERANCE.max((expected as f64 * RELATIVE_TOLERANCE).ceil() as u64)
}

/// True when the restored table should be counted with `Scan`: a recovery
/// point of unknown size counts as small (the page cap still bounds it).
pub fn should_scan(recovery_point_bytes: Option<u64>) -> bool {
    recovery_point_bytes.is_none_or(|b| b <= EXACT_COUNT_MAX_BYTES)
}

/// The `item-count` check of a restored table: `expected` is the recovery
/// point's approximate count, `rp_bytes` its size, `scan` the exact count
/// (or lower bound) when the table was scanned.
pub fn check(
    expected: u64,
    rp_bytes: Option<u64>,
    table: &TableFacts,
    scan: Option<&ItemTally>,
) -> Check {
    let tol = tolerance(expected);
    let within = |n: u64| n.abs_diff(expected) <= tol;
    let about = format!(
        "the recovery point reports about {expected} (approximate: AWS refreshes item counts about every six hours; tolerance ±{tol})"
    );
    let done = |passed: bool, detail: String| Check {
        name: "item-count".to_owned(),
        passed,
        detail,
    };
    // A backup of a table AWS had not counted yet reports 0 items for data.
    if expected == 0 && rp_bytes.is_some_and(|b| b > 0) {
        return done(
            true,
            format!(
                "not compared: the recovery point reports 0 items for {} bytes, a count AWS had not refreshed when it was taken{}",
                rp_bytes.unwrap_or(0),
                scan.filter(|s| s.complete)
                    .map(|s| format!("; the table has exactly {} items", s.counted))
                    .unwrap_or_default()
            ),
        );
    }
    if let Some(s) = scan.filter(|s| s.complete) {
        return done(
            within(s.counted),
            format!("found exactly {} items (Scan); {about}", s.counted),
        );
    }
    let at_least = scan.map_or(0, |s| s.counted);
    if at_least > expected + tol {
        return done(
            false,
            format!(
                "found at least {at_least} items (Scan of {} pages); {about}",
                scan.map_or(0, |s| s.pages)
            ),
        );
    }
    if at_least > 0 && within(at_least) {
        return done(
            true,
            format!(
                "found at least {at_least} items (Scan of {} pages); {about}",
                scan.map_or(0, |s| s.pages)
            ),
        );
    }
    // The table's own ItemCount, unless it is visibly older than the table's
    // contents (fewer items than a Scan already saw, or 0).
    match table.item_count {
        Some(n) if n > 0 && n >= at_least => done(
            within(n),
            format!("the table reports about {n} items (ItemCount); {about}"),
        ),
        reported => done(
            true,
            format!(
                "not verified: too large to count exactly{}, and the table's ItemCount ({}) has not been refreshed since the restore; {about}",
                if at_least > 0 {
                    format!(" (at least {at_least} items seen)")
                } else {
                    String::new()
                },
                reported.map_or_else(|| "none".to_owned(), |n| n.to_string())
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::TableEncryption;

    fn table(item_count: Option<u64>) -> TableFacts {
        TableFacts {
            arn: "arn:aws:dynamodb:us-east-1:111122223333:table/t".into(),
            name: "t".into(),
            status: "ACTIVE".into(),
            item_count,
            size_bytes: None,
            encryption: TableEncryption::Owned,
            indexes: Vec::new(),
            stream: None,
            deletion_protection: false,
            restore_in_progress: false,
            table_id: None,
            capacity: Default::default(),
            origin: Default::default(),
        }
    }

    fn exact(n: u64) -> ItemTally {
        ItemTally {
            counted: n,
            complete: true,
            pages: 1,
        }
    }

    fn partial(n: u64) -> ItemTally {
        ItemTally {
            counted: n,
            complete: false,
            pages: EXACT_COUNT_MAX_PAGES,
        }
    }

    #[test]
    fn the_tolerance_is_ten_items_or_half_the_count() {
        assert_eq!(tolerance(0), 10);
        assert_eq!(tolerance(19), 10);
        assert_eq!(tolerance(21), 11);
        assert_eq!(tolerance(1000), 500);
    }

    #[test]
    fn an_exact_count_within_the_tolerance_of_a_stale_backup_count_passes() {
        // The backup reported 105 items, the table holds 100 now.
        let c = check(105, Some(4096), &table(Some(0)), Some(&exact(100)));
        assert!(c.passed, "{c:?}");
        assert!(c.detail.contains("exactly 100"), "{}", c.detail);
        // ItemCount 0 on the fresh table does not matter: it was counted.
        let c = check(2, None, &table(Some(0)), Some(&exact(2)));
        assert!(c.passed, "{c:?}");
    }

    #[test]
    fn a_clearly_wrong_count_fails() {
        let c = check(1000, Some(1 << 20), &table(Some(1000)), Some(&exact(2)));
        assert!(!c.passed, "{c:?}");
        // Another table's data: far more items than the backup had.
        let c = check(3, Some(300), &table(None), Some(&exact(40)));
        assert!(!c.passed, "{c:?}");
        let c = check(1000, None, &table(None), Some(&partial(100_000)));
        assert!(!c.passed, "{c:?}");
    }

    #[test]
    fn a_stale_item_count_never_fails_a_large_table() {
        // Too large to scan fully, and ItemCount not refreshed since the restore.
        let c = check(5_000_000, Some(10 << 30), &table(Some(0)), None);
        assert!(c.passed && c.detail.starts_with("not verified"), "{c:?}");
        let c = check(
            5_000_000,
            Some(10 << 30),
            &table(Some(3)),
            Some(&partial(80_000)),
        );
        assert!(c.passed && c.detail.starts_with("not verified"), "{c:?}");
        // Refreshed, and close: passes; refreshed and far off: fails.
        let c = check(5_000_000, Some(10 << 30), &table(Some(4_900_000)), None);
        assert!(c.passed, "{c:?}");
        let c = check(5_000_000, Some(10 << 30), &table(Some(12)), None);
        assert!(!c.passed, "{c:?}");
        // A lower bound that already reaches the count passes.
        let c = check(500, None, &table(Some(0)), Some(&partial(400)));
        assert!(c.passed, "{c:?}");
    }

    #[test]
    fn a_backup_counted_before_aws_refreshed_its_table_is_not_compared() {
        let c = check(0, Some(1 << 20), &table(Some(0)), Some(&exact(300)));
        assert!(c.passed && c.detail.starts_with("not compared"), "{c:?}");
        // A truly empty backup still expects an empty table (within ten items).
        let c = check(0, Some(0), &table(Some(0)), Some(&exact(0)));
        assert!(c.passed, "{c:?}");
        let c = check(0, Some(0), &table(None), Some(&exact(50)));
        assert!(!c.passed, "{c:?}");
    }

    #[test]
    fn small_or_unknown_recovery_points_are_scanned() {
        assert!(should_scan(None));
        assert!(should_scan(Some(EXACT_COUNT_MAX_BYTES)));
        assert!(!should_scan(Some(EXACT_COUNT_MAX_BYTES + 1)));
    }
}
