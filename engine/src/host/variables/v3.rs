//! `spin:variables/variables@3.0.0` (Spin 4, async): the component's resolved
//! variables, with the same lookup and errors as `fermyon:spin/variables@2.0.0`.

use wasmtime::component::{Accessor, Linker};

use super::{Lookup, Variables};
use crate::host::capability::{CapabilityView, HasCapability, ViewOf};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v3",
        world: "css:host-v3/variables",
        imports: { default: async | trappable },
    });
}

use bindings::spin::variables::variables::{Error, Host, HostWithStore};

/// Adds the interface to `linker`.
pub(super) fn add_to_linker<T: HasCapability<Variables>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::spin::variables::variables::add_to_linker::<T, ViewOf<Variables>>(linker, T::capability)?;
    Ok(())
}

impl Host for CapabilityView<'_, Variables> {}

impl<T> HostWithStore<T> for ViewOf<Variables> {
    async fn get(accessor: &Accessor<T, Self>, name: String) -> wasmtime::Result<Result<String, Error>> {
        Ok(accessor.with(|mut access| access.get().state.lookup(&name)).map_err(|e| match e {
            Lookup::InvalidName(m) => Error::InvalidName(m),
            Lookup::Undefined(m) => Error::Undefined(m),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::InstanceTemplate;

    #[tokio::test]
    async fn lookups_answer_the_interface_errors() {
        InstanceTemplate::for_tests(&[], 1)
            .run_async::<Variables, _>(async |accessor| {
                type Data = ViewOf<Variables>;
                let undefined = Data::get(accessor, "nope".into()).await.unwrap();
                assert!(matches!(undefined, Err(Error::Undefined(ref m)) if m.contains("nope")), "{undefined:?}");
                let invalid = Data::get(accessor, "No-pe".into()).await.unwrap();
                assert!(matches!(invalid, Err(Error::InvalidName(_))), "{invalid:?}");
            })
            .await;
    }
}
