//! Compiles `proto/kpi.proto` with tonic-prost-build, using the protoc binary vendored by the
//! `protoc-bin-vendored` crate so that a fresh machine needs no system protoc.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; prost-build reads PROTOC from the environment.
    unsafe { std::env::set_var("PROTOC", protoc) };
    println!("cargo:rerun-if-changed=proto/kpi.proto");
    tonic_prost_build::configure().compile_protos(&["proto/kpi.proto"], &["proto"])?;
    Ok(())
}
