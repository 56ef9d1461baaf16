//! `restoreplan init`: a starting plan written from what an account holds.
//!
//! [`survey`] reads the source account (read-only: `ListTables`,
//! `DescribeTable`, `ListTagsOfResource`, the vault's recovery points, the
//! table's DynamoDB backups, its PITR and TTL settings) and decides for each
//! selected table how it can be restored; [`write`] turns that into plan
//! text that `validate --live` accepts against the same account.

pub mod survey;
pub mod write;

pub use survey::{Method, Request, Survey, SurveyedTable, survey};
pub use write::write;
