//! From the bytes of an A1 PUT body to a validated policy statement: the JSON nesting-depth
//! limit (checked on the raw bytes, before anything is deserialised), the JSON parse, the
//! policy type's JSON Schema (O-RAN A1TD: a statement must conform to its type's schema) and,
//! for `ORAN_SliceSLATarget_1.0.0`, the typed statement.
//!
//! Pure: no server, no store, only `maestro_api`, `serde_json` and `thiserror`, so the fuzz
//! crate (`xapp/fuzz`) compiles this file on its own.

use maestro_api::a1::{SliceSlaPolicy, SLICE_SLA_TARGET_TYPE};
use maestro_api::policy_type::{PolicyType, PolicyTypeError};
use serde_json::Value;

/// Deepest nesting of JSON objects and arrays accepted in a policy body. A slice SLA statement
/// nests four levels (`scope.sliceId.plmnId`); anything near this limit is not a policy.
pub const MAX_JSON_DEPTH: usize = 32;

/// Why a body is not a usable policy statement.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Objects and arrays nest deeper than [`MAX_JSON_DEPTH`].
    #[error(
        "body is not valid JSON for a policy: it nests objects/arrays more than {limit} levels deep (the JSON depth limit is {limit})"
    )]
    TooDeep {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The bytes are not JSON.
    #[error("body is not valid JSON: {0}")]
    NotJson(serde_json::Error),
    /// The statement breaks the policy type's schema.
    #[error(transparent)]
    Schema(PolicyTypeError),
    /// Schema-valid, but not a slice SLA statement this xApp can read.
    #[error("policy statement: {0}")]
    Statement(serde_json::Error),
}

/// A statement that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedPolicy {
    /// The statement as sent (what GET returns).
    pub statement: Value,
    /// The typed statement, for `ORAN_SliceSLATarget_1.0.0`.
    pub slice_sla: Option<SliceSlaPolicy>,
}

/// `Err(limit)` when objects/arrays in `bytes` nest deeper than `limit`. Scans the raw bytes
/// (brackets inside strings do not count), so it is linear and needs no parse; malformed JSON
/// is left to the parser.
pub fn check_depth(bytes: &[u8], limit: usize) -> Result<(), usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return Err(limit);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Body bytes to a validated statement of `policy_type`: depth limit, JSON, schema, and the
/// typed slice SLA statement for that type. Never panics.
pub fn parse_policy(policy_type: &PolicyType, bytes: &[u8]) -> Result<ValidatedPolicy, BodyError> {
    check_depth(bytes, MAX_JSON_DEPTH).map_err(|limit| BodyError::TooDeep { limit })?;
    let statement: Value = serde_json::from_slice(bytes).map_err(BodyError::NotJson)?;
    policy_type
        .validate(&statement)
        .map_err(BodyError::Schema)?;
    let slice_sla = if policy_type.id() == SLICE_SLA_TARGET_TYPE {
        Some(
            serde_json::from_value::<SliceSlaPolicy>(statement.clone())
                .map_err(BodyError::Statement)?,
        )
    } else {
        None
    };
    Ok(ValidatedPolicy {
        statement,
        slice_sla,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use maestro_api::policy_type::PolicyTypeRegistry;
    use serde_json::json;

    fn slice_sla() -> Value {
        json!({
            "scope": {"sliceId": {"sst": 1, "sd": "000001", "plmnId": {"mcc": "001", "mnc": "01"}}},
            "sliceSlaObjectives": {"guaDlThptPerSlice": 20000.0}
        })
    }

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        assert_eq!(check_depth(b"[[[]]]", 3), Ok(()));
        assert_eq!(check_depth(b"[[[[]]]]", 3), Err(3));
        assert_eq!(check_depth(br#"{"a": "[[[[[[[[["}"#, 2), Ok(()));
        assert_eq!(check_depth(br#"{"a": "\"[[[[", "b": [[[]]]}"#, 3), Err(3));
        // Unbalanced closers do not underflow.
        assert_eq!(check_depth(b"]]]]{[", 2), Ok(()));
    }

    #[test]
    fn each_kind_of_bad_body_has_its_error() {
        let registry = PolicyTypeRegistry::shipped().unwrap();
        let ty = registry.get(SLICE_SLA_TARGET_TYPE).unwrap();
        let ok = parse_policy(ty, &serde_json::to_vec(&slice_sla()).unwrap()).unwrap();
        assert_eq!(ok.statement, slice_sla());
        assert_eq!(ok.slice_sla.unwrap().scope.slice_id.sst, 1);

        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        let e = parse_policy(ty, deep.as_bytes()).unwrap_err();
        assert!(matches!(e, BodyError::TooDeep { limit: 32 }), "{e}");
        assert!(e.to_string().contains("depth limit is 32"), "{e}");
        // 32 levels pass the depth check and fail the schema instead.
        let at_limit = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(matches!(
            parse_policy(ty, at_limit.as_bytes()),
            Err(BodyError::Schema(_))
        ));
        assert!(matches!(
            parse_policy(ty, b"{\"scope\": "),
            Err(BodyError::NotJson(_))
        ));
        let mut no_objectives = slice_sla();
        no_objectives["sliceSlaObjectives"] = json!({});
        assert!(matches!(
            parse_policy(ty, &serde_json::to_vec(&no_objectives).unwrap()),
            Err(BodyError::Schema(_))
        ));
    }
}
