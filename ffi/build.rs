//! Build script of `maestro-ffi`: nothing without the `flexric` feature; with it, finds the
//! installed FlexRIC, generates bindings with `bindgen`, compiles the C shim with `cc` and
//! links FlexRIC's xApp library with an rpath.
//!
//! Inputs (environment):
//! - `FLEXRIC_DIR`: FlexRIC's install prefix (headers in `include/flexric/`, the xApp library
//!   `libe42_xapp_shared.so` or `libe42_xapp.a` in `lib/`); else `/usr/local`, `/opt/flexric`.
//! - `FLEXRIC_E2AP_VERSION` (`E2AP_V1|E2AP_V2|E2AP_V3`), `FLEXRIC_KPM_VERSION`
//!   (`KPM_V2_01|KPM_V2_03|KPM_V3_00`): the version macros FlexRIC was built with; else read
//!   from `<prefix>/share/flexric/CMakeCache.txt` (or `$FLEXRIC_BUILD_DIR/CMakeCache.txt`),
//!   else FlexRIC's CMake defaults `E2AP_V2` / `KPM_V2_03`, with a warning. They must match
//!   the library, or the struct layouts differ.
//!
//! API shape, detected from the installed headers (never from a list of FlexRIC commits), and
//! handed to Rust as cfgs (declared with `cargo::rustc-check-cfg`) and to the C shim as macros:
//! - `flexric_node_arr_xapp` (`MF_NODE_ARR_XAPP`): `xApp/e42_xapp_api.h` declares
//!   `e2_node_arr_xapp_t e2_nodes_xapp_api(void)`, freed with `free_e2_node_arr_xapp` (FlexRIC
//!   `dev`, 2024); else `e2_node_arr_t`, freed with `free_e2_node_arr` (`master`, 2023-12);
//! - `flexric_rf_decoded` (`MF_RF_DECODED`): the node entry holds already decoded RAN
//!   functions, `sm_ran_function_t* rf`; else the raw `ran_function_t* ack_rf`;
//! - `flexric_e2ap = "E2AP_V1" | "E2AP_V2" | "E2AP_V3"` and `flexric_kpm = "KPM_V2_01" |
//!   "KPM_V2_03" | "KPM_V3_00"`: the version macros (under E2AP v1 a RAN function's OID is an
//!   optional pointer).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Declared in every build (with or without the feature), so `cfg` checks stay quiet.
    println!("cargo::rustc-check-cfg=cfg(flexric_node_arr_xapp)");
    println!("cargo::rustc-check-cfg=cfg(flexric_rf_decoded)");
    println!(
        "cargo::rustc-check-cfg=cfg(flexric_e2ap, values(\"E2AP_V1\", \"E2AP_V2\", \"E2AP_V3\"))"
    );
    println!(
        "cargo::rustc-check-cfg=cfg(flexric_kpm, values(\"KPM_V2_01\", \"KPM_V2_03\", \"KPM_V3_00\"))"
    );
    #[cfg(feature = "flexric")]
    flexric::build();
}

#[cfg(feature = "flexric")]
mod flexric {
    use std::env;
    use std::path::{Path, PathBuf};

    const HEADER: &str = "include/flexric/xApp/e42_xapp_api.h";

    fn fail(msg: &str) -> ! {
        // One readable line; cargo shows it as the build script's error.
        eprintln!("error: {msg}");
        println!("cargo:warning={msg}");
        std::process::exit(1);
    }

    fn find_prefix() -> PathBuf {
        if let Some(dir) = env::var_os("FLEXRIC_DIR") {
            let dir = PathBuf::from(dir);
            if dir.join(HEADER).is_file() {
                return dir;
            }
            fail(&format!(
                "FLEXRIC_DIR={} has no {HEADER}: point FLEXRIC_DIR at FlexRIC's install prefix \
                 (with its headers under include/flexric/)",
                dir.display()
            ));
        }
        for dir in ["/usr/local", "/opt/flexric"] {
            if Path::new(dir).join(HEADER).is_file() {
                return PathBuf::from(dir);
            }
        }
        fail(
            "feature `flexric` needs an installed FlexRIC: set FLEXRIC_DIR to its install prefix \
             (searched /usr/local and /opt/flexric for include/flexric/xApp/e42_xapp_api.h)",
        )
    }

    fn cmake_cache_value(prefix: &Path, key: &str) -> Option<String> {
        let mut caches = vec![prefix.join("share/flexric/CMakeCache.txt")];
        if let Some(b) = env::var_os("FLEXRIC_BUILD_DIR") {
            caches.insert(0, PathBuf::from(b).join("CMakeCache.txt"));
        }
        caches.iter().find_map(|c| {
            let text = std::fs::read_to_string(c).ok()?;
            text.lines().find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.split(':').next()? == key).then(|| v.trim().to_owned())
            })
        })
    }

    fn version(
        prefix: &Path,
        env_key: &str,
        cache_key: &str,
        default: &str,
        allowed: &[&str],
    ) -> String {
        println!("cargo:rerun-if-env-changed={env_key}");
        let v = env::var(env_key)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .or_else(|| cmake_cache_value(prefix, cache_key))
            .unwrap_or_else(|| {
                println!(
                    "cargo:warning=FlexRIC {cache_key} unknown (no {env_key}, no CMakeCache.txt): \
                     assuming FlexRIC's default {default}"
                );
                default.to_owned()
            });
        if !allowed.contains(&v.as_str()) {
            fail(&format!(
                "{env_key}/{cache_key} is {v:?}, expected one of {allowed:?}"
            ));
        }
        v
    }

    /// `text` with C comments removed and all whitespace dropped, so declarations can be
    /// matched as plain substrings (`sm_ran_function_t*rf;`).
    fn squeeze(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("/*") {
                rest = r.split_once("*/").map_or("", |(_, after)| after);
            } else if let Some(r) = rest.strip_prefix("//") {
                rest = r.split_once('\n').map_or("", |(_, after)| after);
            } else {
                let mut chars = rest.chars();
                if let Some(c) = chars.next() {
                    if !c.is_whitespace() {
                        out.push(c);
                    }
                }
                rest = chars.as_str();
            }
        }
        out
    }

    fn read_header(include: &Path, rel: &str) -> Option<String> {
        let path = include.join(rel);
        println!("cargo:rerun-if-changed={}", path.display());
        std::fs::read_to_string(path).ok().map(|t| squeeze(&t))
    }

    /// The API shape of the installed FlexRIC (see the crate doc): `(node_arr_xapp,
    /// rf_decoded)`.
    fn detect_api(include: &Path, e2ap: &str) -> (bool, bool) {
        let api = read_header(include, "xApp/e42_xapp_api.h").unwrap_or_else(|| {
            fail(&format!(
                "cannot read {}/xApp/e42_xapp_api.h",
                include.display()
            ))
        });
        let node_arr_xapp = if api.contains("e2_node_arr_xapp_te2_nodes_xapp_api(void)") {
            true
        } else if api.contains("e2_node_arr_te2_nodes_xapp_api(void)") {
            false
        } else {
            fail(&format!(
                "{}/xApp/e42_xapp_api.h declares neither `e2_node_arr_xapp_t e2_nodes_xapp_api(void)` \
                 nor `e2_node_arr_t e2_nodes_xapp_api(void)`: unknown FlexRIC API",
                include.display()
            ))
        };
        // The header that defines the node entry of that array.
        let entry = if node_arr_xapp {
            "xApp/e2_node_connected_xapp.h".to_owned()
        } else {
            let dir = match e2ap {
                "E2AP_V1" => "v1_01",
                "E2AP_V2" => "v2_03",
                _ => "v3_01",
            };
            format!("lib/e2ap/{dir}/e2ap_types/e2_node_connected.h")
        };
        let text = read_header(include, &entry)
            .unwrap_or_else(|| fail(&format!("cannot read {}/{entry}", include.display())));
        let rf_decoded = if text.contains("sm_ran_function_t*rf;") {
            true
        } else if text.contains("ran_function_t*ack_rf;") {
            false
        } else {
            fail(&format!(
                "{}/{entry}: the node entry has neither `sm_ran_function_t* rf` nor \
                 `ran_function_t* ack_rf`: unknown FlexRIC API",
                include.display()
            ))
        };
        if node_arr_xapp {
            let arr = read_header(include, "xApp/e2_node_arr_xapp.h").unwrap_or_default();
            if !arr.contains("voidfree_e2_node_arr_xapp(e2_node_arr_xapp_t*") {
                fail("xApp/e2_node_arr_xapp.h does not declare free_e2_node_arr_xapp");
            }
        }
        (node_arr_xapp, rf_decoded)
    }

    pub fn build() {
        println!("cargo:rerun-if-env-changed=FLEXRIC_DIR");
        println!("cargo:rerun-if-env-changed=FLEXRIC_BUILD_DIR");
        println!("cargo:rerun-if-changed=shim/maestro_flexric.c");
        println!("cargo:rerun-if-changed=shim/maestro_flexric.h");
        let prefix = find_prefix();
        let include = prefix.join("include/flexric");
        let lib = prefix.join("lib");
        let e2ap = version(
            &prefix,
            "FLEXRIC_E2AP_VERSION",
            "E2AP_VERSION",
            "E2AP_V2",
            &["E2AP_V1", "E2AP_V2", "E2AP_V3"],
        );
        let kpm = version(
            &prefix,
            "FLEXRIC_KPM_VERSION",
            "KPM_VERSION",
            "KPM_V2_03",
            &["KPM_V2_01", "KPM_V2_03", "KPM_V3_00"],
        );
        let (node_arr_xapp, rf_decoded) = detect_api(&include, &e2ap);
        println!("cargo::rustc-cfg=flexric_e2ap=\"{e2ap}\"");
        println!("cargo::rustc-cfg=flexric_kpm=\"{kpm}\"");
        // The macros of FlexRIC's `target_compile_definitions(e42_xapp PUBLIC ...)`, then the
        // shim's own API-shape macros.
        let mut defines = vec![e2ap.as_str(), kpm.as_str(), "ASN", "SQLITE3_XAPP"];
        if node_arr_xapp {
            println!("cargo::rustc-cfg=flexric_node_arr_xapp");
            defines.push("MF_NODE_ARR_XAPP");
        }
        if rf_decoded {
            println!("cargo::rustc-cfg=flexric_rf_decoded");
            defines.push("MF_RF_DECODED");
        }
        let api = match (node_arr_xapp, rf_decoded) {
            (true, true) => "e2_node_arr_xapp_t, decoded rf",
            (true, false) => "e2_node_arr_xapp_t, raw ack_rf",
            (false, true) => "e2_node_arr_t, decoded rf",
            (false, false) => "e2_node_arr_t, raw ack_rf",
        };

        let mut c = cc::Build::new();
        c.file("shim/maestro_flexric.c")
            .include("shim")
            .include(&include)
            .warnings(true);
        for d in &defines {
            c.define(d, None);
        }
        c.compile("maestro_flexric_shim");

        let mut b = bindgen::Builder::default()
            .header("shim/wrapper.h")
            .clang_arg(format!("-I{}", include.display()))
            .clang_arg("-Ishim")
            .allowlist_function("mf_.*")
            .allowlist_function("e2_nodes_xapp_api")
            .allowlist_function("free_e2_node_arr")
            .allowlist_function("free_e2_node_arr_xapp")
            .allowlist_function("try_stop_xapp_api")
            .allowlist_type("mf_.*")
            .allowlist_type("e2_node_arr_t")
            .allowlist_type("e2_node_arr_xapp_t")
            .allowlist_var("MF_.*")
            .derive_default(true)
            .layout_tests(false)
            .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
        for d in &defines {
            b = b.clang_arg(format!("-D{d}"));
        }
        let bindings = b.generate().unwrap_or_else(|e| {
            fail(&format!(
                "bindgen on FlexRIC headers in {}: {e}",
                include.display()
            ))
        });
        let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_else(|| fail("OUT_DIR unset")));
        bindings
            .write_to_file(out.join("flexric_bindings.rs"))
            .unwrap_or_else(|e| fail(&format!("writing bindings: {e}")));

        // Link FlexRIC's xApp library: the shared one when present (its DT_NEEDED may lack
        // libsctp/libsqlite3, so both are linked after it), else the static archive.
        println!("cargo:rustc-link-search=native={}", lib.display());
        if lib.join("libe42_xapp_shared.so").is_file() {
            println!("cargo:rustc-link-lib=dylib=e42_xapp_shared");
        } else if lib.join("libe42_xapp.a").is_file() {
            println!("cargo:rustc-link-lib=static=e42_xapp");
            // GCC nested functions (FlexRIC's `defer`) need an executable stack.
            println!("cargo:rustc-link-arg=-Wl,-z,execstack");
        } else {
            fail(&format!(
                "no libe42_xapp_shared.so or libe42_xapp.a in {} (FLEXRIC_DIR={})",
                lib.display(),
                prefix.display()
            ));
        }
        println!("cargo:rustc-link-lib=dylib=sctp");
        println!("cargo:rustc-link-lib=dylib=sqlite3");
        println!("cargo:rustc-link-lib=dylib=pthread");
        println!("cargo:rustc-link-lib=dylib=dl");
        // rpath for this crate's own tests; the `maestro` binary gets it from the root build.rs.
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
        println!(
            "cargo:rustc-env=MAESTRO_FLEXRIC_PREFIX={}",
            prefix.display()
        );
        println!("cargo:rustc-env=MAESTRO_FLEXRIC_VERSIONS={e2ap} {kpm}");
        println!("cargo:rustc-env=MAESTRO_FLEXRIC_API={api}");
    }
}
