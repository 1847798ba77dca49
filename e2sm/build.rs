//! Compiles our ASN.1 subsets of the O-RAN E2SM common IEs, E2SM-RC v1.03 and E2SM-KPM
//! v03.00 (with the v02.03 indication header) (`asn1/*.asn`) into rasn types with
//! `rasn-compiler`; `src/common/reference.rs` includes the result from `OUT_DIR`. Only with
//! the feature `reference` (the rasn reference codecs): without it this does nothing.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "reference")]
    reference::generate();
}

#[cfg(feature = "reference")]
mod reference {
    use std::path::PathBuf;

    use rasn_compiler::prelude::{Compiler, RasnBackend, RasnConfig};
    use rasn_compiler::OutputMode;

    pub(super) fn generate() {
        let modules = [
            "asn1/e2sm-common-subset.asn",
            "asn1/e2sm-rc-subset.asn",
            "asn1/e2sm-kpm-subset.asn",
        ];
        for module in modules {
            println!("cargo:rerun-if-changed={module}");
        }
        let out_dir = match std::env::var_os("OUT_DIR") {
            Some(d) => PathBuf::from(d),
            None => panic!("OUT_DIR is not set"),
        };
        let out = out_dir.join("e2sm_subsets.rs");
        // The default derives include `Eq` and `Hash`, which `REAL` (f64, in valueReal of
        // RANParameter-Value) does not implement: derive only what rasn needs plus PartialEq.
        let config = RasnConfig {
            type_annotations: vec![String::from(
                "#[derive(AsnType, Debug, Clone, Decode, Encode, PartialEq)]",
            )],
            ..RasnConfig::default()
        };
        let mut compiler =
            Compiler::<RasnBackend, _>::new_with_config(config).add_asn_by_path(modules[0]);
        for module in &modules[1..] {
            compiler = compiler.add_asn_by_path(module);
        }
        let result = compiler
            .set_output_mode(OutputMode::SingleFile(out))
            .compile();
        match result {
            Ok(warnings) => {
                for w in warnings {
                    println!("cargo:warning=rasn-compiler: {w:?}");
                }
            }
            Err(e) => panic!("rasn-compiler failed on {modules:?}: {e:?}"),
        }
    }
}
