//! Compiles `proto/dlm/v1/*.proto` at the workspace root with the protoc
//! binary shipped by `protoc-bin-vendored`, so no system protoc is needed.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let protos = [
        proto_root.join("dlm/v1/sweeps.proto"),
        proto_root.join("dlm/v1/workers.proto"),
    ];

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);

    tonic_prost_build::configure().compile_with_config(config, &protos, &[proto_root.clone()])?;

    println!("cargo:rerun-if-changed={}", proto_root.display());
    Ok(())
}
