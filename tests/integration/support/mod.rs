//! Shared test support: the emulator, SDK seeding helpers and plan builders.

pub mod aws;
pub mod cli;
pub mod emulator;
pub mod plans;
