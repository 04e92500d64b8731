//! Which interpreter a piece of Python runs on. Both are CPython on WASI
//! behind the same boundary (src/sandbox); they differ in what a skill may
//! import. A skill's manifest names its runtime, so the name is part of the
//! skill's content hash.

use serde::{Deserialize, Serialize};

/// The interpreter a skill or a cell runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// CPython 3.14 with a chosen part of the standard library; built in.
    #[default]
    Core,
    /// CPython 3.15 with numpy and pandas too; fetched once with
    /// `autolearn runtime fetch data`.
    Data,
}

impl Runtime {
    /// Every runtime, in the order they are documented.
    pub const ALL: [Runtime; 2] = [Runtime::Core, Runtime::Data];

    /// The name used in manifests, tool arguments and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Core => "core",
            Runtime::Data => "data",
        }
    }

    /// Whether this is the default (left out of a manifest's canonical form,
    /// so every skill made before runtimes existed keeps its id).
    pub fn is_core(&self) -> bool {
        *self == Runtime::Core
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Runtime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Runtime::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown runtime {s:?}; expected \"core\" or \"data\""))
    }
}
