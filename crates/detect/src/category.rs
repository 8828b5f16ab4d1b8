//! The four screening categories. Their ids are a public contract (JSON, CSV, URLs, STIX): never rename.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Drugs,
    UnregisteredProducts,
    TraffickingRecruitment,
    SexualExploitation,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Drugs,
        Category::UnregisteredProducts,
        Category::TraffickingRecruitment,
        Category::SexualExploitation,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Category::Drugs => "drugs",
            Category::UnregisteredProducts => "unregistered_products",
            Category::TraffickingRecruitment => "trafficking_recruitment",
            Category::SexualExploitation => "sexual_exploitation",
        }
    }

    /// Human label in Bahasa Indonesia (the UI default).
    pub fn label_id(self) -> &'static str {
        match self {
            Category::Drugs => "Narkoba & obat keras",
            Category::UnregisteredProducts => "Produk tanpa izin edar",
            Category::TraffickingRecruitment => "Rekrutmen TPPO",
            Category::SexualExploitation => "Eksploitasi seksual",
        }
    }

    /// Human label in English.
    pub fn label_en(self) -> &'static str {
        match self {
            Category::Drugs => "Drugs & prescription-only medicines",
            Category::UnregisteredProducts => "Unregistered products",
            Category::TraffickingRecruitment => "Trafficking recruitment",
            Category::SexualExploitation => "Sexual exploitation",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown category `{0}` (expected one of: drugs, unregistered_products, trafficking_recruitment, sexual_exploitation)"
)]
pub struct ParseCategoryError(pub String);

impl FromStr for Category {
    type Err = ParseCategoryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.id() == s.trim())
            .ok_or_else(|| ParseCategoryError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.id().parse::<Category>().unwrap(), c);
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.id())
            );
        }
        assert!("narkoba".parse::<Category>().is_err());
    }
}
