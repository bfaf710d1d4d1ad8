//! `spin-shim package`.

use std::path::PathBuf;

use clap::Args;

use crate::oci_layout::host_architecture;
use crate::package::{package, PackageOptions};

/// Arguments of `package`.
#[derive(Args, Debug)]
pub(crate) struct PackageArgs {
    /// The app: a spin.toml, or a directory holding one.
    #[arg(short = 'f', long = "from", default_value = ".")]
    app: PathBuf,
    /// Image reference to record, e.g. `example.com/hello:v1`.
    #[arg(short, long)]
    reference: String,
    /// Output file (an OCI image layout tar).
    #[arg(short, long)]
    output: PathBuf,
    /// OCI architecture of the image config (default: this host's).
    #[arg(long)]
    arch: Option<String>,
    /// Pack every file under the app directory as it is, without loading the app.
    #[arg(long)]
    raw: bool,
    /// Pack the files of this named profile instead of the default's (its
    /// containers run with `SPIN_PROFILE` set to the name).
    #[arg(long)]
    profile: Option<String>,
}

impl PackageArgs {
    /// Writes the image and prints its manifest digest.
    pub(crate) fn run(self) -> anyhow::Result<i32> {
        let digest = package(
            &PackageOptions {
                app: self.app,
                reference: self.reference.clone(),
                architecture: self.arch.unwrap_or_else(|| host_architecture().to_string()),
                raw: self.raw,
                profile: self.profile,
            },
            &self.output,
        )?;
        println!("{} {digest} -> {}", self.reference, self.output.display());
        Ok(0)
    }
}
