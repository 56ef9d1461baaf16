//! The state transitions of each kind of path through an exported
//! definition ([`super::asl`]), counted by walking the definition itself
//! ([`super::walk`]): what `simulate --engine step-functions` bills. Pure.
//!
//! A run enters the top-level states once, each worker lane's start once,
//! one restore path per restore (its claim, its start, its polling loop as
//! many times as the job is polled, its settings, its verification, its
//! outcome and the release of its dependents), one idle loop each time a
//! lane finds nothing ready, and one end per lane.

use serde_json::{Map, Value};

use super::walk::{self, Guide, count, default_of};

/// The price of a state transition of a Standard workflow, in dollars:
/// $0.025 per 1,000 (us-east-1, after the free tier of 4,000 a month).
pub const DOLLARS_PER_TRANSITION: f64 = 0.025 / 1000.0;

/// The lane processor's states and the top-level states of a definition.
pub struct Machine<'a> {
    top: &'a Map<String, Value>,
    lane: &'a Map<String, Value>,
}

impl<'a> Machine<'a> {
    /// The machine of an exported definition.
    pub fn of(definition: &'a Value) -> Result<Self, String> {
        let top = walk::states_of(definition)?;
        let lane = walk::processor(top, "Lanes")
            .ok_or_else(|| "the definition has no `Lanes` map".to_owned())
            .and_then(walk::states_of)?;
        Ok(Self { top, lane })
    }

    /// The lane's wait before polling a restore job again, indexed by its
    /// `ExpectedCompletionTimeMinutes`.
    pub fn poll_waits(&self) -> Vec<u64> {
        self.table("poll")
    }

    /// The lane's wait after its first look at a job, indexed the same way.
    pub fn first_waits(&self) -> Vec<u64> {
        self.table("first")
    }

    /// The idle waits of a lane that found nothing ready, by how many times
    /// in a row it found nothing.
    pub fn idle_waits(&self) -> Vec<u64> {
        self.table("idle")
    }

    fn table(&self, name: &str) -> Vec<u64> {
        self.lane
            .get("Start lane")
            .and_then(|s| s.pointer(&format!("/Parameters/tables/{name}")))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default()
    }

    /// States the top level enters (a run whose restores all succeed), the
    /// lanes' own not counted.
    pub fn top(&self) -> Result<u64, String> {
        struct Top;
        impl Guide for Top {
            fn choose(&mut self, name: &str, state: &Value) -> Result<String, String> {
                match name {
                    "All restored?" => Ok("Restored".into()),
                    _ => default_of(state),
                }
            }
            fn items(&mut self, _: &str) -> usize {
                0
            }
        }
        let start = self
            .top
            .get("Prepare")
            .map(|_| "Prepare")
            .ok_or("no Prepare state")?;
        count(self.top, start, None, &mut Top)
    }

    /// States a lane enters before it first looks for work.
    pub fn lane_start(&self) -> Result<u64, String> {
        count(
            self.lane,
            "Start lane",
            Some("Find ready"),
            &mut Idle::ending(false, 0),
        )
    }

    /// States a lane enters when it finds nothing ready: `last` when the run
    /// is over (the lane ends), else one idle wait after `idle` idle waits
    /// in a row.
    pub fn idle(&self, over: bool, idle: usize) -> Result<u64, String> {
        count(
            self.lane,
            "Find ready",
            Some("Find ready"),
            &mut Idle::ending(over, idle),
        )
    }

    /// States one restore's path enters, from its lane's query for ready
    /// work to the same query after it.
    pub fn restore(&self, path: &RestorePath) -> Result<u64, String> {
        let mut guide = path.guide();
        count(self.lane, "Find ready", Some("Find ready"), &mut guide)
    }
}

/// What decides one restore's path.
#[derive(Debug, Clone)]
pub struct RestorePath {
    /// The restore's entry in the coordination table (its `spec`).
    pub spec: Value,
    /// Waits of its restore polling loop before the job is seen finished.
    pub polls: u32,
    /// The restore job's `ExpectedCompletionTimeMinutes`.
    pub expected_minutes: u64,
    /// Waits of its copy job polling loop before the copy is seen finished.
    pub copy_polls: u32,
    /// The copy's expected minutes (its entry's `copy.minutes`), which
    /// index the copy's waits.
    pub copy_expected_minutes: u64,
    /// Pages of its `verify.items` count.
    pub pages: u64,
    /// For each dependent (in the entry's order): this restore is the last
    /// of its dependencies to finish, so it makes it ready.
    pub releases: Vec<bool>,
}

impl RestorePath {
    fn guide(&self) -> RestoreGuide<'_> {
        RestoreGuide {
            path: self,
            polls_left: self.polls,
            copy_polls_left: self.copy_polls,
            pages_left: self.pages.max(1),
            change: 0,
            dependent: 0,
            native_waited: false,
        }
    }

    fn array(&self, key: &str) -> usize {
        self.spec
            .get(key)
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    }

    fn backup(&self) -> bool {
        self.spec
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.starts_with("StartRestoreJob"))
    }
}

struct RestoreGuide<'a> {
    path: &'a RestorePath,
    polls_left: u32,
    copy_polls_left: u32,
    pages_left: u64,
    change: usize,
    dependent: usize,
    native_waited: bool,
}

impl Guide for RestoreGuide<'_> {
    fn choose(&mut self, name: &str, state: &Value) -> Result<String, String> {
        let p = self.path;
        let spec = &p.spec;
        let str_of = |k: &str| spec.get(k).and_then(Value::as_str).unwrap_or_default();
        Ok(match name {
            "Any ready?" => "Claim".into(),
            "Doomed?" => default_of(state)?,
            "Copy?" => {
                if spec.get("copy").is_some() {
                    "Start copy".into()
                } else {
                    default_of(state)?
                }
            }
            "Copy job done?" => {
                if self.copy_polls_left == 0 {
                    "Copied".into()
                } else {
                    let first = self.copy_polls_left == p.copy_polls;
                    self.copy_polls_left -= 1;
                    let capped = p.copy_expected_minutes > super::asl::MAX_EXPECTED_MINUTES;
                    match (first, capped) {
                        (true, true) => "First copy wait capped",
                        (true, false) => "First copy wait known",
                        (false, true) => "Copy wait capped",
                        (false, false) => "Copy wait known",
                    }
                    .into()
                }
            }
            "Restore kind" => format!("Start {}", str_of("kind")),
            "Restore job done?" => {
                if self.polls_left == 0 {
                    "Settings".into()
                } else {
                    let first = self.polls_left == p.polls;
                    self.polls_left -= 1;
                    let capped = p.expected_minutes > super::asl::MAX_EXPECTED_MINUTES;
                    match (first, capped) {
                        (true, true) => "First wait capped",
                        (true, false) => "First wait known",
                        (false, true) => "Poll wait capped",
                        (false, false) => "Poll wait known",
                    }
                    .into()
                }
            }
            "Table active?" => {
                // The first wait comes before the first DescribeTable.
                if !self.native_waited {
                    self.native_waited = true;
                    self.polls_left = self.polls_left.saturating_sub(1);
                }
                if self.polls_left == 0 {
                    "Settings".into()
                } else {
                    self.polls_left -= 1;
                    "Wait for table".into()
                }
            }
            "Setting kind" => spec
                .pointer(&format!("/changes/{}/kind", self.change))
                .and_then(Value::as_str)
                .ok_or("a setting beyond the entry's changes")?
                .to_owned(),
            "Verify?" => {
                if spec.get("verify_items").is_some() {
                    "Count start".into()
                } else if spec.get("verify_keys").is_some() {
                    "Keys".into()
                } else {
                    default_of(state)?
                }
            }
            "More pages?" => {
                if self.pages_left > 1 {
                    self.pages_left -= 1;
                    "Count next page".into()
                } else {
                    default_of(state)?
                }
            }
            "Keys?" => {
                if spec.get("verify_keys").is_some() {
                    "Keys".into()
                } else {
                    default_of(state)?
                }
            }
            "Key found?" => "Key present".into(),
            "Verified" => {
                if p.backup() {
                    "Report verified".into()
                } else {
                    default_of(state)?
                }
            }
            "Release: Last dependency?" => {
                if p.releases.get(self.dependent).copied().unwrap_or(false) {
                    "Release: Make ready".into()
                } else {
                    "Release: Still waiting".into()
                }
            }
            // Everything else on a restore's path to success.
            _ => default_of(state)?,
        })
    }

    fn items(&mut self, name: &str) -> usize {
        match name {
            "Settings" => self.path.array("changes"),
            "Keys" => self.path.array("verify_keys"),
            "Release dependents" => self.path.array("dependents"),
            _ => 0,
        }
    }

    fn item(&mut self, name: &str, k: usize) {
        match name {
            "Settings" => self.change = k,
            "Release dependents" => self.dependent = k,
            _ => {}
        }
    }
}

struct Idle {
    over: bool,
    idle: usize,
}

impl Idle {
    fn ending(over: bool, idle: usize) -> Self {
        Self { over, idle }
    }
}

impl Guide for Idle {
    fn choose(&mut self, name: &str, state: &Value) -> Result<String, String> {
        Ok(match name {
            "Any ready?" => default_of(state)?,
            "Run over?" if self.over => "Lane done".into(),
            "Run over?" => {
                let last = state
                    .get("Choices")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|c| c.get("Variable").and_then(Value::as_str) == Some("$.idle.n"))
                    .and_then(|c| c.get("NumericGreaterThanEquals"))
                    .and_then(Value::as_u64)
                    .ok_or("`Run over?` without the idle count's rule")?
                    as usize;
                if self.idle >= last {
                    "Idle again".into()
                } else {
                    default_of(state)?
                }
            }
            _ => default_of(state)?,
        })
    }

    fn items(&mut self, _: &str) -> usize {
        0
    }
}
