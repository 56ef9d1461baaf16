//! The plan language: load YAML, check it, resolve defaults and templates,
//! and seal the result into a [`model::Plan`].
//!
//! Pure: no network, no clock (the date for `{date}` is passed in).

pub mod model;
