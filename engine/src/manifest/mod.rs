//! spin.toml parsing: V1 and V2 formats, normalisation and validation (spec §1).

mod de;
mod dependency_name;
mod http_hosts;
pub(crate) mod ids;
mod normalize;
mod parse;
mod profile;
mod v1;
pub mod v2;
mod validate;
mod version;

pub use dependency_name::DependencyName;
pub use normalize::normalize;
pub use parse::parse_manifest;
pub use v2::AppManifest;
pub use validate::validate;
