//! `wasi:http` of the WASI 0.2 release candidates that older SDKs target, over
//! wasmtime's 0.2 implementation.
//!
//! A pre-release's resources are the same host objects as 0.2's (a request, a
//! body, a stream is one table entry whichever version's handle names it), so
//! each function here reshapes its arguments and calls the 0.2 function:
//! outbound requests pass through the same `allowed_outbound_hosts` hooks, and a
//! guest that mixes a pre-release with 0.2 shares one set of streams.
//!
//! - 2023-10-18 (Rust `spin-sdk` 2.1 and 2.2): `wasi:io` and `wasi:http` differ
//!   from 0.2 throughout, so both have bindings here.
//! - 2023-11-10 (componentize-py 0.7): only `wasi:http/types` differs from 0.2;
//!   every other interface of the snapshot is renamed to 0.2.0 before
//!   compilation (`runtime/pre_release.rs`) and served by wasmtime.

mod delegations;
mod rc_2023_10_18;
mod rc_2023_11_10;

use wasmtime::component::{HasData, Linker};
use wasmtime_wasi_http::{WasiHttpCtxView, WasiHttpView};

pub use rc_2023_10_18::{Rc20231018Proxy, Rc20231018ProxyPre};

/// The interfaces this module links.
pub(crate) fn is_linked(interface: &str) -> bool {
    rc_2023_10_18::INTERFACES.contains(&interface) || rc_2023_11_10::INTERFACES.contains(&interface)
}

/// The data the interfaces link over: wasi-http's view of the store.
struct RcHttp;

impl HasData for RcHttp {
    type Data<'a> = WasiHttpCtxView<'a>;
}

/// Adds the pre-releases' own interfaces to `linker`.
pub(crate) fn add_to_linker<T: WasiHttpView + 'static>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    rc_2023_10_18::add_to_linker(linker)?;
    rc_2023_11_10::add_to_linker(linker)
}

/// `From` both ways between two generated variants with the same cases (one
/// version's and another's): `units` carry nothing, `values` carry a payload
/// converted with `Into`, `options` an optional one.
macro_rules! same_cases {
    ($a:ty, $b:ty { units: [$($unit:ident),*], values: [$($value:ident),*], options: [$($option:ident),*] }) => {
        crate::host::wasi_http_rc::same_cases!(@one $a => $b, [$($unit),*], [$($value),*], [$($option),*]);
        crate::host::wasi_http_rc::same_cases!(@one $b => $a, [$($unit),*], [$($value),*], [$($option),*]);
    };
    (@one $from:ty => $to:ty, [$($unit:ident),*], [$($value:ident),*], [$($option:ident),*]) => {
        impl From<$from> for $to {
            fn from(case: $from) -> Self {
                type From = $from;
                match case {
                    $(From::$unit => Self::$unit,)*
                    $(From::$value(v) => Self::$value(v.into()),)*
                    $(From::$option(v) => Self::$option(v.map(Into::into)),)*
                }
            }
        }
    };
}

/// `From` both ways between two generated records with the same fields.
macro_rules! same_fields {
    ($a:ty, $b:ty { $($field:ident),* }) => {
        impl From<$a> for $b {
            fn from(r: $a) -> Self {
                Self { $($field: r.$field.into()),* }
            }
        }
        impl From<$b> for $a {
            fn from(r: $b) -> Self {
                Self { $($field: r.$field.into()),* }
            }
        }
    };
}

/// `From` both ways between a pre-release's `method` and `scheme` and 0.2's
/// (`$rc` is the pre-release's generated `types` module).
macro_rules! same_methods_and_schemes {
    ($rc:path) => {
        const _: () = {
            use wasmtime_wasi_http::p2::bindings::http::types as latest;
            use $rc as rc;
            crate::host::wasi_http_rc::same_cases!(
                rc::Method,
                latest::Method {
                    units: [Get, Head, Post, Put, Delete, Connect, Options, Trace, Patch],
                    values: [Other],
                    options: []
                }
            );
            crate::host::wasi_http_rc::same_cases!(
                rc::Scheme,
                latest::Scheme { units: [Http, Https], values: [Other], options: [] }
            );
        };
    };
}

use {same_cases, same_fields, same_methods_and_schemes};
