//! Apps for the start benchmarks, each built into a folder `spin-shim package`
//! or `spin-shim registry push` takes. A `tag` is written into every component
//! as a custom section: the wasm then has a digest no cache on the node has
//! seen, so a start with a new tag is a first start on the node, and the same
//! tag again is a second start.

use std::path::Path;

use crate::guests;

/// An app a start benchmark runs: its name and how to lay it out.
#[derive(Clone, Copy, Debug)]
pub enum BenchApp {
    /// The Rust hello app (one component, route `/...`).
    Hello,
    /// Five components of their own wasm (the hello logic, each a distinct
    /// binary), one route each: `/` and `/a` to `/d`.
    FiveRoutes,
    /// The Python SDK's hello app (a 37 MB component).
    PythonHello,
}

impl BenchApp {
    /// How tables name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hello => "hello",
            Self::FiveRoutes => "5-route app",
            Self::PythonHello => "python hello",
        }
    }

    /// Writes the app into `dir` with every component's wasm tagged `tag`.
    pub fn write(self, dir: &Path, tag: &str) -> anyhow::Result<()> {
        let (guest, components): (&str, &[(&str, &str)]) = match self {
            Self::Hello => ("rust-hello", &[("hello", "/...")]),
            Self::FiveRoutes => ("rust-hello", &[("root", "/"), ("a", "/a"), ("b", "/b"), ("c", "/c"), ("d", "/d")]),
            Self::PythonHello => ("python-hello", &[("hello", "/...")]),
        };
        let wasm = std::fs::read(guests::app(guest).join("app.wasm"))?;
        let mut manifest = format!("spin_manifest_version = 2\n[application]\nname = \"bench-{guest}\"\n");
        for (id, route) in components {
            std::fs::write(dir.join(format!("{id}.wasm")), tagged(&wasm, &format!("{tag}/{id}")))?;
            manifest.push_str(&format!(
                "[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"{id}\"\n[component.{id}]\nsource = \"{id}.wasm\"\n"
            ));
        }
        std::fs::write(dir.join("spin.toml"), manifest)?;
        Ok(())
    }
}

/// `wasm` (a component or module) with a custom section `bench-tag` holding
/// `tag` appended: the same code under another digest.
pub fn tagged(wasm: &[u8], tag: &str) -> Vec<u8> {
    const NAME: &str = "bench-tag";
    let mut content = Vec::new();
    leb128(&mut content, NAME.len() as u64);
    content.extend_from_slice(NAME.as_bytes());
    content.extend_from_slice(tag.as_bytes());
    let mut out = wasm.to_vec();
    out.push(0); // custom section id
    leb128(&mut out, content.len() as u64);
    out.extend_from_slice(&content);
    out
}

fn leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tagged_component_is_valid_and_differs() {
        let component = b"\0asm\x0d\0\x01\0";
        let tagged = tagged(component, "run-1");
        assert_ne!(tagged, component);
        assert!(tagged.starts_with(component));
        let mut tag_len = Vec::new();
        leb128(&mut tag_len, 300);
        assert_eq!(tag_len, [0xac, 0x02]);
    }
}
