//! The A1 policy types this product ships, with their JSON Schemas (draft-07), and validation
//! of policy statements against them with a real JSON Schema validator.

use serde_json::Value;

use crate::a1::{PolicyTypeObject, SLICE_SLA_TARGET_TYPE};

/// Schema text of `ORAN_SliceSLATarget_1.0.0`, embedded at compile time.
const SLICE_SLA_TARGET_SCHEMA: &str = include_str!("../schemas/ORAN_SliceSLATarget_1.0.0.json");

/// Status schema shared by our types: A1AP v2 enforceStatus / enforceReason.
const STATUS_SCHEMA: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "required": ["enforceStatus"],
  "properties": {
    "enforceStatus": { "enum": ["ENFORCED", "NOT_ENFORCED"] },
    "enforceReason": { "enum": ["SCOPE_NOT_APPLICABLE", "STATEMENT_NOT_APPLICABLE", "OTHER_REASON"] },
    "notEnforcedCells": {
      "description": "Ours, not A1AP's: with several cells, the cells that do not enforce a NOT_ENFORCED policy",
      "type": "array",
      "items": { "type": "string" }
    }
  }
}"#;

/// Why a policy type could not be loaded or a statement failed validation.
#[derive(Debug, thiserror::Error)]
pub enum PolicyTypeError {
    /// The embedded schema text is not JSON (a build defect, reported rather than panicking).
    #[error("schema of policy type {type_id} is not valid JSON: {source}")]
    SchemaJson {
        /// Policy type id.
        type_id: String,
        /// Parser error.
        source: serde_json::Error,
    },
    /// The schema is not a valid draft-07 schema.
    #[error("schema of policy type {type_id} is not a valid JSON Schema: {reason}")]
    SchemaInvalid {
        /// Policy type id.
        type_id: String,
        /// Validator's message.
        reason: String,
    },
    /// The statement breaks the schema; one message per violation, with its JSON pointer.
    #[error("policy breaks the schema of {type_id}: {}", violations.join("; "))]
    Violations {
        /// Policy type id.
        type_id: String,
        /// Human-readable violations (`/path: message`).
        violations: Vec<String>,
    },
}

/// One shipped policy type: its id, schemas and compiled validator.
pub struct PolicyType {
    id: String,
    schema: Value,
    status_schema: Value,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for PolicyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyType").field("id", &self.id).finish()
    }
}

impl PolicyType {
    fn compile(id: &str, schema_text: &str) -> Result<Self, PolicyTypeError> {
        let parse = |text: &str| {
            serde_json::from_str::<Value>(text).map_err(|source| PolicyTypeError::SchemaJson {
                type_id: id.to_owned(),
                source,
            })
        };
        let schema = parse(schema_text)?;
        let status_schema = parse(STATUS_SCHEMA)?;
        let validator =
            jsonschema::draft7::new(&schema).map_err(|e| PolicyTypeError::SchemaInvalid {
                type_id: id.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            id: id.to_owned(),
            schema,
            status_schema,
            validator,
        })
    }

    /// Policy type id, e.g. `ORAN_SliceSLATarget_1.0.0`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The A1 `PolicyTypeObject` served for this type.
    pub fn object(&self) -> PolicyTypeObject {
        PolicyTypeObject {
            policy_schema: self.schema.clone(),
            status_schema: Some(self.status_schema.clone()),
        }
    }

    /// Validates a policy statement; every violation is reported, each with its JSON pointer.
    pub fn validate(&self, statement: &Value) -> Result<(), PolicyTypeError> {
        let violations: Vec<String> = self
            .validator
            .iter_errors(statement)
            .map(|e| {
                let path = e.instance_path().to_string();
                let path = if path.is_empty() {
                    "/".to_owned()
                } else {
                    path
                };
                format!("{path}: {e}")
            })
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(PolicyTypeError::Violations {
                type_id: self.id.clone(),
                violations,
            })
        }
    }
}

/// The set of policy types an A1 termination supports.
#[derive(Debug)]
pub struct PolicyTypeRegistry {
    types: Vec<PolicyType>,
}

impl PolicyTypeRegistry {
    /// The types this product ships: `ORAN_SliceSLATarget_1.0.0`.
    pub fn shipped() -> Result<Self, PolicyTypeError> {
        Ok(Self {
            types: vec![PolicyType::compile(
                SLICE_SLA_TARGET_TYPE,
                SLICE_SLA_TARGET_SCHEMA,
            )?],
        })
    }

    /// Looks a type up by id.
    pub fn get(&self, id: &str) -> Option<&PolicyType> {
        self.types.iter().find(|t| t.id == id)
    }

    /// Ids of all supported types, in registry order.
    pub fn ids(&self) -> Vec<String> {
        self.types.iter().map(|t| t.id.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn slice_type() -> PolicyTypeRegistry {
        PolicyTypeRegistry::shipped().unwrap()
    }

    fn valid() -> Value {
        json!({
            "scope": {"sliceId": {"sst": 1, "sd": "000001", "plmnId": {"mcc": "001", "mnc": "01"}}},
            "sliceSlaObjectives": {"guaDlThptPerSlice": 40000, "maxDlThptPerSlice": 50000}
        })
    }

    #[test]
    fn accepts_a_valid_statement() {
        let reg = slice_type();
        reg.get(SLICE_SLA_TARGET_TYPE)
            .unwrap()
            .validate(&valid())
            .unwrap();
    }

    #[test]
    fn rejects_negative_throughput_missing_scope_and_unknown_members() {
        let reg = slice_type();
        let t = reg.get(SLICE_SLA_TARGET_TYPE).unwrap();
        let mut bad = valid();
        bad["sliceSlaObjectives"]["guaDlThptPerSlice"] = json!(-5);
        let err = t.validate(&bad).unwrap_err().to_string();
        assert!(
            err.contains("/sliceSlaObjectives/guaDlThptPerSlice"),
            "{err}"
        );

        let no_scope = json!({"sliceSlaObjectives": {"guaDlThptPerSlice": 1}});
        assert!(t.validate(&no_scope).is_err());

        let mut extra = valid();
        extra["sliceSlaObjectives"]["warpFactor"] = json!(9);
        assert!(t.validate(&extra).is_err());

        let mut bad_sd = valid();
        bad_sd["scope"]["sliceId"]["sd"] = json!("xyz");
        assert!(t.validate(&bad_sd).is_err());
    }

    #[test]
    fn reports_every_violation() {
        let reg = slice_type();
        let t = reg.get(SLICE_SLA_TARGET_TYPE).unwrap();
        let bad = json!({
            "scope": {"sliceId": {"sst": 300, "plmnId": {"mcc": "1", "mnc": "01"}}},
            "sliceSlaObjectives": {"guaDlThptPerSlice": -1}
        });
        match t.validate(&bad) {
            Err(PolicyTypeError::Violations { violations, .. }) => assert_eq!(violations.len(), 3),
            other => panic!("expected 3 violations, got {other:?}"),
        }
    }

    #[test]
    fn unknown_type_is_absent() {
        assert!(slice_type().get("ORAN_Nope_9.9.9").is_none());
        assert_eq!(slice_type().ids(), vec![SLICE_SLA_TARGET_TYPE.to_owned()]);
    }
}
