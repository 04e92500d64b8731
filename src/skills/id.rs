//! `SkillId`: the sha256 of a skill's canonical manifest, as 64 hex digits.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Domain separation: a skill hash can never collide with a hash of the
/// same bytes used for something else.
const DOMAIN: &[u8] = b"autolearn-skill-v1\n";

/// A skill's content hash.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct SkillId(String);

impl SkillId {
    /// Hash a canonical manifest serialization.
    pub fn of_canonical(canonical: &str) -> Self {
        let mut h = Sha256::new();
        h.update(DOMAIN);
        h.update(canonical.as_bytes());
        Self(hex::encode(h.finalize()))
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 hex digits, for display.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

/// Text that is not a skill id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a skill id (64 lowercase hex digits): {0:?}")]
pub struct SkillIdError(String);

impl FromStr for SkillId {
    type Err = SkillIdError;
    fn from_str(s: &str) -> Result<Self, SkillIdError> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(s.to_owned()))
        } else {
            Err(SkillIdError(s.to_owned()))
        }
    }
}

impl TryFrom<String> for SkillId {
    type Error = SkillIdError;
    fn try_from(s: String) -> Result<Self, SkillIdError> {
        s.parse()
    }
}

impl From<SkillId> for String {
    fn from(id: SkillId) -> String {
        id.0
    }
}

impl fmt::Display for SkillId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_lowercase_hex_of_the_right_length() {
        let id = SkillId::of_canonical("{}");
        assert_eq!(id.as_str().parse::<SkillId>(), Ok(id.clone()));
        assert!("ABC".parse::<SkillId>().is_err());
        assert!(id.as_str().to_uppercase().parse::<SkillId>().is_err());
    }
}
