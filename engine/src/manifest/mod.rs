//! spin.toml parsing: V1 and V2 formats, normalisation and validation (spec §1).

mod de;
pub mod http_hosts;
pub mod ids;
pub mod normalize;
mod parse;
pub mod v1;
pub mod v2;
pub mod validate;
pub mod version;

pub use parse::parse_manifest;
pub use v2::AppManifest;
