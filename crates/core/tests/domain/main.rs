//! Integration tests of `patroli-core` through its public API, one binary for the crate.

mod evidence_package;
mod network_story;
mod stix_bundle;
