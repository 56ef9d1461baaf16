//! `recovery_point: { random_within: DURATION }`: a random recovery point
//! that a reviewed plan can reproduce.
//!
//! The draw is rendezvous hashing: every candidate scores
//! `sha256(seed, plan, restore id, candidate ARN)` and the highest score
//! wins. The window is anchored at the draw's time, not at "now", so a saved
//! plan (`plan --out`, which records the seed and the time) gives exactly
//! the same point to `apply --plan-file` later, whatever was backed up
//! since. A plain `apply` draws with a fresh seed.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cloud::RecoveryPoint;

/// The inputs of every `random_within` pick of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RandomDraw {
    /// 16 hex digits; with the plan name and the restore id it decides each pick.
    pub seed: String,
    /// The end of every window: points created after it are never picked.
    pub at: DateTime<Utc>,
}

impl RandomDraw {
    /// A draw with a fresh random seed, anchored at `at`.
    pub fn fresh(at: DateTime<Utc>) -> Self {
        Self {
            seed: format!("{:016x}", rand::random::<u64>()),
            at,
        }
    }

    /// The candidate `restore_id` of plan `plan` restores: among COMPLETED
    /// DynamoDB points created in `(at - window, at]`, the one with the
    /// highest score. `None` when the window holds none.
    pub fn pick<'a>(
        &self,
        plan: &str,
        restore_id: &str,
        window: std::time::Duration,
        candidates: &'a [RecoveryPoint],
    ) -> Option<&'a RecoveryPoint> {
        let from = self.at - chrono::Duration::from_std(window).unwrap_or(chrono::TimeDelta::MAX);
        candidates
            .iter()
            .filter(|rp| {
                rp.status == "COMPLETED"
                    && rp.resource_type.eq_ignore_ascii_case("DynamoDB")
                    && rp.created > from
                    && rp.created <= self.at
            })
            .max_by_key(|rp| (self.score(plan, restore_id, &rp.arn), rp.arn.clone()))
    }

    fn score(&self, plan: &str, restore_id: &str, arn: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        for part in [self.seed.as_str(), plan, restore_id, arn] {
            h.update(part.len().to_le_bytes());
            h.update(part.as_bytes());
        }
        h.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::RecoveryPointOrigin;
    use chrono::TimeZone;
    use std::time::Duration;

    fn point(n: u32, hours_ago: i64, at: DateTime<Utc>) -> RecoveryPoint {
        RecoveryPoint {
            arn: format!("arn:aws:backup:us-east-1:111122223333:recovery-point:rp-{n}"),
            origin: RecoveryPointOrigin::Vault { vault: "v".into() },
            resource_arn: "arn:aws:dynamodb:us-east-1:111122223333:table/t".into(),
            resource_type: "DynamoDB".into(),
            status: "COMPLETED".into(),
            created: at - chrono::Duration::hours(hours_ago),
            size_bytes: None,
            item_count: None,
            encryption_key_arn: None,
            indexes: None,
            capacity: None,
        }
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    #[test]
    fn the_same_draw_picks_the_same_point_whatever_was_added_later() {
        let draw = RandomDraw {
            seed: "00000000000000aa".into(),
            at: at(),
        };
        let points: Vec<_> = (0..10).map(|n| point(n, n as i64 * 10, at())).collect();
        let first = draw
            .pick("p", "orders", Duration::from_secs(7 * 86_400), &points)
            .unwrap()
            .arn
            .clone();
        // A point taken after the draw, and another order of listing.
        let mut later = points.clone();
        later.reverse();
        later.push(point(99, -2, at()));
        let again = draw
            .pick("p", "orders", Duration::from_secs(7 * 86_400), &later)
            .unwrap();
        assert_eq!(again.arn, first);
    }

    #[test]
    fn picks_only_completed_points_inside_the_window() {
        let draw = RandomDraw::fresh(at());
        let mut points: Vec<_> = (0..6).map(|n| point(n, 30 + n as i64, at())).collect();
        points.push(point(50, 2, at()));
        let mut partial = point(51, 1, at());
        partial.status = "PARTIAL".into();
        points.push(partial);
        for id in ["a", "b", "c", "d"] {
            let rp = draw
                .pick("p", id, Duration::from_secs(24 * 3600), &points)
                .unwrap();
            assert!(rp.arn.ends_with("rp-50"), "{id}: {}", rp.arn);
        }
        assert!(
            draw.pick("p", "a", Duration::from_secs(3600), &points)
                .is_none()
        );
    }

    #[test]
    fn different_seeds_spread_the_picks() {
        let points: Vec<_> = (0..8).map(|n| point(n, n as i64, at())).collect();
        let picked: std::collections::BTreeSet<String> = (0..64u64)
            .map(|s| {
                let draw = RandomDraw {
                    seed: format!("{s:016x}"),
                    at: at(),
                };
                draw.pick("p", "t", Duration::from_secs(86_400), &points)
                    .unwrap()
                    .arn
                    .clone()
            })
            .collect();
        assert!(picked.len() >= 4, "only {} distinct picks", picked.len());
    }
}
