//! Spin OCI artifacts: their media types, building one from an app as
//! `spin registry push` does, pushing and pulling it, and turning its layers
//! (from a registry, or from containerd through runwasi) into a loadable app.

mod archive;
mod artifact;
mod client;
pub(crate) mod media_types;
mod unpack;

pub(crate) use artifact::{build, Layout};
pub(crate) use client::Registry;
pub(crate) use unpack::Unpacker;
