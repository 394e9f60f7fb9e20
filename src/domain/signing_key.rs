//! A signing key's status: the one `active` key signs; `verifying` keys (rotated out)
//! still verify what they signed; `retired` keys verify nothing any more.

use serde::Serialize;
use std::str::FromStr;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Active,
    Verifying,
    Retired,
}

impl KeyStatus {
    pub const ALL: [KeyStatus; 3] = [KeyStatus::Active, KeyStatus::Verifying, KeyStatus::Retired];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Verifying => "verifying",
            KeyStatus::Retired => "retired",
        }
    }

    /// Whether license keys and leases signed by it still verify.
    pub fn verifies(self) -> bool {
        self != KeyStatus::Retired
    }
}

impl FromStr for KeyStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        KeyStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown signing key status {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_match_the_api_names_and_parse_back() {
        for k in KeyStatus::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
            assert_eq!(k.as_str().parse::<KeyStatus>().unwrap(), k);
        }
        assert!(KeyStatus::Verifying.verifies());
        assert!(!KeyStatus::Retired.verifies());
    }
}
