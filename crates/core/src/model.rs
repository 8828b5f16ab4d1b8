//! Domain enums shared by store, server and CLI. Their string forms are stored in databases and
//! sent over the API: add variants, never rename.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $s:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($s => Ok($name::$variant),)* _ => Err(UnknownValue {
                    what: stringify!($name),
                    value: s.to_string(),
                    expected: &[$($s),*],
                }) }
            }
        }
    };
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}` (expected one of: {})", expected.join(", "))]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

string_enum!(
    /// What a user may do. `Platform` is API-only (ingest, own takedowns).
    Role {
        Admin => "admin",
        Analyst => "analyst",
        Investigator => "investigator",
        Viewer => "viewer",
        Platform => "platform",
    }
);

string_enum!(
    /// The agency families in DOMAIN.md. A platform partner is `Platform`.
    AgencyKind {
        Bpom => "BPOM",
        Polri => "POLRI",
        Bnn => "BNN",
        Komdigi => "KOMDIGI",
        Kemlu => "KEMLU",
        Platform => "PLATFORM",
    }
);

string_enum!(
    /// An analyst's decision on a finding.
    VerdictKind {
        Confirmed => "confirmed",
        Dismissed => "dismissed",
    }
);

string_enum!(
    /// Where a finding stands in the review queue.
    FindingStatus {
        Pending => "pending",
        Confirmed => "confirmed",
        Dismissed => "dismissed",
    }
);

impl From<VerdictKind> for FindingStatus {
    fn from(v: VerdictKind) -> Self {
        match v {
            VerdictKind::Confirmed => FindingStatus::Confirmed,
            VerdictKind::Dismissed => FindingStatus::Dismissed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_forms_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        assert_eq!("BPOM".parse::<AgencyKind>().unwrap(), AgencyKind::Bpom);
        let err = "boss".parse::<Role>().unwrap_err();
        assert!(err.to_string().contains("admin, analyst"), "{err}");
    }
}
