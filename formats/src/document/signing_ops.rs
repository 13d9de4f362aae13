//! `cavra-runtime.signing-operations.json` (formats §5.5, seed 000): the release signing control
//! model. Each failure has its own code so an auditor sees which control is absent.

use crate::json;
use crate::reason::{Code, Reason};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The seven controls every manifest must hold.
pub const REQUIRED_CONTROLS: [&str; 7] = [
    "release-signing-key-id-declared",
    "private-key-public-boundary-documented",
    "quarterly-key-rotation-policy",
    "incident-triggered-revocation-policy",
    "emergency-revocation-evidence-required",
    "replacement-key-overlap-guidance",
    "signed-release-evidence-required",
];

/// The emergency revocation evidence seed 000 requires.
pub const EMERGENCY_EVIDENCE: [&str; 7] = [
    "revoked key id",
    "affected release versions",
    "revocation timestamp",
    "replacement key id",
    "operator approver",
    "new signed release evidence",
    "customer advisory reference",
];

/// The emergency actions seed 000 requires.
pub const EMERGENCY_ACTIONS: [&str; 5] = [
    "disable the compromised signing secret",
    "remove affected release artifacts from promotion channels",
    "publish a revocation advisory",
    "rebuild and sign replacement packages with a new key id",
    "verify replacement packages before promotion resumes",
];

/// Key custody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Custody {
    /// Where private signing material must live (e.g. `external-secret-manager`).
    pub model: String,
    /// The secret's location, by reference only.
    pub private_key_location: String,
    /// What the public repository may hold.
    pub public_repository_boundary: String,
}

/// Rotation policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    /// `quarterly`.
    pub cadence: String,
    /// Incident-triggered rotation.
    pub incident_triggered: bool,
    /// Replacement-key overlap guidance.
    pub overlap_guidance: String,
}

/// Revocation policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Evidence an emergency revocation must carry.
    pub emergency_evidence_required: Vec<String>,
    /// Actions an emergency revocation takes.
    pub emergency_actions: Vec<String>,
}

/// The manifest as Airlock writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningOperations {
    /// `cavra-signing-operations`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// Package name.
    pub package: String,
    /// Release version.
    pub version: String,
    /// The active release signing key id.
    pub active_key_id: String,
    /// `Ed25519`.
    pub algorithm: String,
    /// Whether signing is required (Airlock requires it regardless).
    pub signing_required: bool,
    /// Key custody.
    pub custody: Custody,
    /// Rotation.
    pub rotation: Rotation,
    /// Revocation.
    pub revocation: Revocation,
    /// The controls in force.
    pub controls: Vec<String>,
}

/// What the verifier takes from a manifest that passed its own checks.
#[derive(Debug, Clone)]
pub struct SigningOpsFacts {
    /// Active release key id.
    pub active_key_id: String,
    /// Package, if the manifest names one.
    pub package: Option<String>,
    /// Version, if the manifest names one.
    pub version: Option<String>,
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn list_of_text(v: &Value, path: &[&str]) -> bool {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_array)
        .is_some_and(|a| {
            !a.is_empty()
                && a.iter()
                    .all(|x| x.as_str().is_some_and(|s| !s.trim().is_empty()))
        })
}

/// A control id, from a string or an object `{ "id": … }` not marked `"enforced": false`.
fn control_id(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Object(o) if o.get("enforced") != Some(&Value::Bool(false)) => {
            o.get("id").and_then(Value::as_str)
        }
        _ => None,
    }
}

/// Checks a manifest's own content (the cross-checks against the release are in `policy`).
pub fn check(bytes: &[u8]) -> Result<SigningOpsFacts, Vec<Reason>> {
    const FILE: &str = "cavra-runtime.signing-operations.json";
    let v = json::parse_value(bytes).map_err(|e| {
        vec![Reason::new(
            Code::SigningOperationsMissing,
            format!("{FILE} is not valid JSON: {e}"),
        )]
    })?;
    if !v.is_object() {
        return Err(vec![Reason::new(
            Code::SigningOperationsMissing,
            format!("{FILE} is not a JSON object"),
        )]);
    }
    let mut reasons = Vec::new();
    let missing = |what: &str| {
        Reason::new(
            Code::SigningOperationsControlMissing,
            format!("{FILE}: {what}"),
        )
    };
    let active_key_id = text(&v, &["active_key_id"]).map(str::to_owned);
    if active_key_id.is_none() {
        reasons.push(missing(
            "active_key_id is missing or empty (control release-signing-key-id-declared)",
        ));
    }
    match v.get("algorithm").and_then(Value::as_str) {
        Some("Ed25519") => {}
        Some(other) => reasons.push(Reason::new(
            Code::SigningOperationsAlgorithm,
            format!("{FILE}: algorithm is {other:?}; only Ed25519 is accepted"),
        )),
        None => reasons.push(Reason::new(
            Code::SigningOperationsAlgorithm,
            format!("{FILE}: algorithm is missing; only Ed25519 is accepted"),
        )),
    }
    if !v.get("signing_required").is_some_and(Value::is_boolean) {
        reasons.push(missing("signing_required is missing or not a boolean"));
    }
    for field in [
        "model",
        "private_key_location",
        "public_repository_boundary",
    ] {
        if text(&v, &["custody", field]).is_none() {
            reasons.push(missing(&format!(
                "custody.{field} is missing or empty (key custody boundary)"
            )));
        }
    }
    if !text(&v, &["rotation", "cadence"])
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("quarterly"))
    {
        reasons.push(missing("rotation.cadence is not \"quarterly\""));
    }
    if v.pointer("/rotation/incident_triggered") != Some(&Value::Bool(true)) {
        reasons.push(missing(
            "rotation.incident_triggered is not true (incident-triggered rotation policy)",
        ));
    }
    if text(&v, &["rotation", "overlap_guidance"]).is_none() {
        reasons.push(missing(
            "rotation.overlap_guidance is missing or empty (replacement-key overlap guidance)",
        ));
    }
    if !list_of_text(&v, &["revocation", "emergency_evidence_required"]) {
        reasons.push(missing(
            "revocation.emergency_evidence_required is missing or empty",
        ));
    }
    if !list_of_text(&v, &["revocation", "emergency_actions"]) {
        reasons.push(missing("revocation.emergency_actions is missing or empty"));
    }
    let controls: Vec<&str> = v
        .get("controls")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(control_id).collect())
        .unwrap_or_default();
    for required in REQUIRED_CONTROLS {
        if !controls.contains(&required) {
            reasons.push(missing(&format!("control {required} is not declared")));
        }
    }
    match (reasons.is_empty(), active_key_id) {
        (true, Some(active_key_id)) => Ok(SigningOpsFacts {
            active_key_id,
            package: text(&v, &["package"]).map(str::to_owned),
            version: text(&v, &["version"]).map(str::to_owned),
        }),
        _ => Err(reasons),
    }
}

impl SigningOperations {
    /// A complete manifest for `active_key_id` with the documented controls.
    pub fn new(
        package: &str,
        version: &str,
        active_key_id: &str,
        signing_required: bool,
        custody: Custody,
        overlap_guidance: &str,
    ) -> Self {
        Self {
            type_: "cavra-signing-operations".into(),
            package: package.into(),
            version: version.into(),
            active_key_id: active_key_id.into(),
            algorithm: "Ed25519".into(),
            signing_required,
            custody,
            rotation: Rotation {
                cadence: "quarterly".into(),
                incident_triggered: true,
                overlap_guidance: overlap_guidance.into(),
            },
            revocation: Revocation {
                emergency_evidence_required: EMERGENCY_EVIDENCE
                    .iter()
                    .map(|s| (*s).into())
                    .collect(),
                emergency_actions: EMERGENCY_ACTIONS.iter().map(|s| (*s).into()).collect(),
            },
            controls: REQUIRED_CONTROLS.iter().map(|s| (*s).into()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Value {
        let c = Custody {
            model: "external-secret-manager".into(),
            private_key_location: "op://release/signing-key".into(),
            public_repository_boundary: "key ids only".into(),
        };
        serde_json::to_value(SigningOperations::new(
            "p",
            "v1.0.0",
            "k",
            true,
            c,
            "both keys sign during the window",
        ))
        .unwrap()
    }

    fn codes(v: &Value) -> Vec<Code> {
        match check(&serde_json::to_vec(v).unwrap()) {
            Ok(_) => vec![],
            Err(r) => r.into_iter().map(|r| r.code).collect(),
        }
    }

    #[test]
    fn each_failure_has_its_code() {
        assert!(codes(&good()).is_empty());
        let mut v = good();
        v["algorithm"] = "RSA".into();
        assert_eq!(codes(&v), [Code::SigningOperationsAlgorithm]);
        let mut v = good();
        v["controls"].as_array_mut().unwrap().remove(3);
        assert_eq!(codes(&v), [Code::SigningOperationsControlMissing]);
        let mut v = good();
        v["custody"]
            .as_object_mut()
            .unwrap()
            .remove("public_repository_boundary");
        assert_eq!(codes(&v), [Code::SigningOperationsControlMissing]);
        let mut v = good();
        v["rotation"]["incident_triggered"] = false.into();
        assert_eq!(codes(&v), [Code::SigningOperationsControlMissing]);
        assert_eq!(
            check(b"{\"a\":1,\"a\":2}").unwrap_err()[0].code,
            Code::SigningOperationsMissing
        );
    }
}
