//! Shared test support: the emulator, SDK seeding helpers and plan builders.
//! The benchmarks include some of these files too, each using a part.
#![allow(dead_code)]

pub mod aws;
pub mod emulator;
pub mod garbage;
pub mod plans;
pub mod proxy;
pub mod settings;
pub mod snapshot;
