//! Patroli's domain: the things agencies talk about (posts, accounts, findings, verdicts, cases,
//! takedowns, public reports) and the rules for how they may change. No SQL, no HTTP, no files.

pub mod audit;
pub mod crypto;
pub mod evidence;
pub mod ids;
pub mod model;
pub mod network;
pub mod region;
pub mod report;
pub mod stix;
pub mod workflow;

pub use ids::*;
pub use model::*;
pub use patroli_detect::{Category, Severity};
