//! Any bytes as the body of an A1 PUT, for every shipped policy type, through the function the
//! handler uses (`a1::body::parse_policy`: depth limit, JSON, schema, typed statement): it
//! returns a policy or an error, never panics, and an accepted statement re-serialises to a
//! body that is accepted again as the same statement.
#![no_main]

#[path = "../../src/a1/body.rs"]
#[allow(dead_code)]
mod body;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use maestro_api::policy_type::PolicyTypeRegistry;

fn registry() -> &'static PolicyTypeRegistry {
    static REGISTRY: OnceLock<PolicyTypeRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| PolicyTypeRegistry::shipped().expect("shipped policy types compile"))
}

fuzz_target!(|data: &[u8]| {
    let registry = registry();
    for id in registry.ids() {
        let ty = registry.get(&id).expect("listed type");
        if let Ok(policy) = body::parse_policy(ty, data) {
            let bytes = serde_json::to_vec(&policy.statement).expect("a JSON value serialises");
            let again = body::parse_policy(ty, &bytes).expect("an accepted statement re-validates");
            assert_eq!(again, policy);
        }
    }
});
