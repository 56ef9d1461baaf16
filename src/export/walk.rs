//! Counting the states a path through an exported definition enters: the
//! state transitions Step Functions Standard bills. Pure.
//!
//! [`count`] follows the definition itself — each state's `Next`, `End`,
//! `Default` and `Choices`, and the `ItemProcessor` of each `Map` state once
//! per item — and asks a [`Guide`] only what the data would decide: which
//! branch a `Choice` takes and how many items a `Map` iterates over. A
//! branch the guide names must be one the `Choice` state declares, so a
//! guide written for another shape of definition fails instead of
//! counting a path the machine cannot take.

use serde_json::{Map, Value};

/// What a path's data decides.
pub trait Guide {
    /// The state `Choice` state `name` goes to: one of its rules' `Next`
    /// or its `Default`.
    fn choose(&mut self, name: &str, state: &Value) -> Result<String, String>;
    /// How many items `Map` state `name` iterates over.
    fn items(&mut self, name: &str) -> usize;
    /// Iteration `k` of `Map` state `name` begins.
    fn item(&mut self, _name: &str, _k: usize) {}
    /// Non-`Choice` state `name` is entered.
    fn entered(&mut self, _name: &str) {}
}

/// The most states one walk enters before it is taken for a loop that
/// never ends.
const MAX_STEPS: u64 = 10_000_000;

/// The processor of `Map` state `map` among `states`.
pub fn processor<'a>(states: &'a Map<String, Value>, map: &str) -> Option<&'a Value> {
    states.get(map)?.get("ItemProcessor")
}

/// The `Default` of a `Choice` state.
pub fn default_of(state: &Value) -> Result<String, String> {
    state
        .get("Default")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| "a Choice state without Default".to_owned())
}

/// The `States` of a definition or processor.
pub fn states_of(machine: &Value) -> Result<&Map<String, Value>, String> {
    machine
        .get("States")
        .and_then(Value::as_object)
        .ok_or_else(|| "a definition without States".to_owned())
}

/// Counts the states entered from `from` (inclusive) until the path ends
/// (`End`, `Succeed`, `Fail`) or is about to enter `until` again (not
/// counted; `from` itself may be `until`). `Map` iterations count their
/// inner states; the `Map` state itself counts once.
pub fn count(
    states: &Map<String, Value>,
    from: &str,
    until: Option<&str>,
    guide: &mut dyn Guide,
) -> Result<u64, String> {
    let mut n = 0u64;
    let mut name = from.to_owned();
    loop {
        if n > 0 && until == Some(name.as_str()) {
            return Ok(n);
        }
        if n > MAX_STEPS {
            return Err(format!("the path from `{from}` does not end"));
        }
        let state = states
            .get(&name)
            .ok_or_else(|| format!("the path enters `{name}`, which is not a state"))?;
        n += 1;
        let kind = state.get("Type").and_then(Value::as_str).unwrap_or("");
        let next = match kind {
            "Choice" => {
                let chosen = guide.choose(&name, state)?;
                let declared = state
                    .get("Choices")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.get("Next").and_then(Value::as_str))
                    .chain(state.get("Default").and_then(Value::as_str))
                    .any(|s| s == chosen);
                if !declared {
                    return Err(format!(
                        "Choice `{name}` has no branch to `{chosen}`: the definition changed"
                    ));
                }
                Some(chosen)
            }
            "Succeed" | "Fail" => None,
            _ => {
                guide.entered(&name);
                if kind == "Map" {
                    let inner = state
                        .get("ItemProcessor")
                        .ok_or_else(|| format!("Map `{name}` without an ItemProcessor"))?;
                    let start = inner
                        .get("StartAt")
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("the processor of `{name}` has no StartAt"))?;
                    let inner_states = states_of(inner)?;
                    for k in 0..guide.items(&name) {
                        guide.item(&name, k);
                        n += count(inner_states, start, None, guide)?;
                    }
                }
                if state.get("End").and_then(Value::as_bool) == Some(true) {
                    None
                } else {
                    Some(
                        state
                            .get("Next")
                            .and_then(Value::as_str)
                            .ok_or_else(|| format!("state `{name}` has neither Next nor End"))?
                            .to_owned(),
                    )
                }
            }
        };
        match next {
            Some(s) => name = s,
            None => return Ok(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Loop(u32);

    impl Guide for Loop {
        fn choose(&mut self, _: &str, _: &Value) -> Result<String, String> {
            if self.0 == 0 {
                return Ok("Out".into());
            }
            self.0 -= 1;
            Ok("Body".into())
        }
        fn items(&mut self, _: &str) -> usize {
            3
        }
    }

    #[test]
    fn loops_maps_and_undeclared_branches() {
        let m = json!({"States": {
            "Head": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "Body"}], "Default": "Out"},
            "Body": {"Type": "Pass", "Next": "Head"},
            "Out": {"Type": "Map", "ItemProcessor": {"StartAt": "One", "States": {"One": {"Type": "Pass", "Next": "Two"}, "Two": {"Type": "Succeed"}}}, "Next": "End"},
            "End": {"Type": "Succeed"}
        }});
        let states = states_of(&m).unwrap_or_else(|e| panic!("{e}"));
        // Head, Body twice, Head, Out (+3 x 2), End.
        let n = count(states, "Head", None, &mut Loop(2)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, 2 * 2 + 1 + 1 + 6 + 1);
        assert_eq!(
            count(states, "Body", Some("Head"), &mut Loop(0)).ok(),
            Some(1)
        );
        struct Wrong;
        impl Guide for Wrong {
            fn choose(&mut self, _: &str, _: &Value) -> Result<String, String> {
                Ok("Elsewhere".into())
            }
            fn items(&mut self, _: &str) -> usize {
                0
            }
        }
        assert!(count(states, "Head", None, &mut Wrong).is_err());
    }
}
