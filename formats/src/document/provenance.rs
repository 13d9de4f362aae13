//! SLSA Provenance v1 predicate (formats §5.4), the fields Airlock pins: builder id, workflow
//! repository and ref, and the resolved source commit.

use serde::Deserialize;
use serde_json::Value;

/// The provenance predicate type.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

/// `predicate.buildDefinition.externalParameters.workflow`.
#[derive(Debug, Clone, Deserialize)]
pub struct Workflow {
    /// Source ref.
    #[serde(rename = "ref")]
    pub ref_: String,
    /// Source repository URL.
    pub repository: String,
}

/// `externalParameters`.
#[derive(Debug, Clone, Deserialize)]
pub struct ExternalParameters {
    /// The workflow.
    pub workflow: Workflow,
}

/// A resolved dependency.
#[derive(Debug, Clone, Deserialize)]
pub struct ResourceDescriptor {
    /// URI, e.g. `git+https://github.com/cavra/cavra@refs/tags/v0.1.0`.
    #[serde(default)]
    pub uri: Option<String>,
    /// Digests by algorithm (`gitCommit`, `sha1`, …).
    #[serde(default)]
    pub digest: std::collections::BTreeMap<String, String>,
}

/// `buildDefinition`.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildDefinition {
    /// Build type URI.
    #[serde(rename = "buildType")]
    pub build_type: String,
    /// External parameters.
    #[serde(rename = "externalParameters")]
    pub external_parameters: ExternalParameters,
    /// Resolved dependencies.
    #[serde(rename = "resolvedDependencies", default)]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

/// `runDetails.builder`.
#[derive(Debug, Clone, Deserialize)]
pub struct BuilderRef {
    /// Builder id.
    pub id: String,
}

/// `runDetails`.
#[derive(Debug, Clone, Deserialize)]
pub struct RunDetails {
    /// The builder.
    pub builder: BuilderRef,
}

/// The predicate.
#[derive(Debug, Clone, Deserialize)]
pub struct Provenance {
    /// Build definition.
    #[serde(rename = "buildDefinition")]
    pub build_definition: BuildDefinition,
    /// Run details.
    #[serde(rename = "runDetails")]
    pub run_details: RunDetails,
}

impl Provenance {
    /// Types a statement's predicate.
    pub fn from_predicate(v: &Value) -> Result<Self, crate::FormatError> {
        serde_json::from_value(v.clone())
            .map_err(|e| format!("SLSA provenance predicate: {e}").into())
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (including `/`) and
/// every other character matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p.iter().skip(pi).all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn ref_patterns() {
        assert!(glob_match("refs/tags/v*", "refs/tags/v0.1.0"));
        assert!(glob_match("refs/tags/v*", "refs/tags/v"));
        assert!(!glob_match("refs/tags/v*", "refs/heads/main"));
        assert!(!glob_match("refs/tags/v*", "xrefs/tags/v1"));
        assert!(glob_match("refs/*/v*.0", "refs/tags/v1.0"));
        assert!(!glob_match("refs/tags/v1.?", "refs/tags/v1.0"));
        assert!(glob_match("refs/tags/v1.?", "refs/tags/v1.?"));
    }
}
