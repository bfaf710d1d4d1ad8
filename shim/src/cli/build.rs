//! `spin-shim build` (and `spin-shim up --build`): runs each component's
//! `[component.<id>.build]` commands, as `spin build` does. A command runs
//! through `sh -c` in the app's folder (or the component's relative
//! `workdir`), with this process's terminal; the first one that fails stops
//! the build. A component built from another's Wasm (a dependency on it, or
//! on its source file) is built after it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Args;
use serde::Deserialize;

use spin_engine::loader::AppSource;
use spin_engine::manifest::v2::{Component, ComponentSource, DependencySource};
use spin_engine::manifest::{parse_manifest, AppManifest};

/// Arguments of `build`.
#[derive(Args, Debug)]
pub(crate) struct BuildArgs {
    /// The app: a spin.toml or a directory holding one.
    #[arg(short = 'f', long = "from", default_value = ".")]
    from: PathBuf,
    /// Build only this component (repeatable); by default every one.
    #[arg(short = 'c', long = "component-id", value_name = "COMPONENT")]
    component_ids: Vec<String>,
    /// The named profile whose build commands run, where a component has one.
    #[arg(long)]
    profile: Option<String>,
    /// Run the app once built, as `spin-shim up -f <the app>` would, with the
    /// arguments that follow as up's own.
    #[arg(short = 'u', long)]
    up: bool,
    /// `spin-shim up`'s arguments for `--up`.
    #[arg(requires = "up", trailing_var_arg = true, allow_hyphen_values = true, value_name = "UP_ARGS")]
    up_args: Vec<String>,
}

impl BuildArgs {
    /// Runs the build commands; exit status 0 once all succeeded.
    pub(crate) fn run(self) -> anyhow::Result<i32> {
        let Some(manifest) = AppSource::detect(&self.from).manifest() else {
            bail!("{} is not a spin.toml or a folder holding one: there is nothing to build", self.from.display())
        };
        build_app(&manifest, self.profile.as_deref(), &self.component_ids)?;
        if !self.up {
            return Ok(0);
        }
        let mut up = vec!["spin-shim".into(), "up".into(), "-f".into(), manifest.into_os_string()];
        if let Some(profile) = self.profile {
            up.extend(["--profile".into(), profile.into()]);
        }
        up.extend(self.up_args.into_iter().map(Into::into));
        <super::Cli as clap::Parser>::try_parse_from(up)?.run()
    }
}

/// `[component.<id>.build]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildConfig {
    command: Commands,
    #[serde(default)]
    workdir: Option<String>,
    /// Files `spin watch` watches; not used here.
    #[serde(default)]
    #[allow(dead_code)]
    watch: Vec<String>,
}

/// One command, or several run in order.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Commands {
    One(String),
    Several(Vec<String>),
}

impl Commands {
    fn list(&self) -> &[String] {
        match self {
            Commands::One(command) => std::slice::from_ref(command),
            Commands::Several(commands) => commands,
        }
    }
}

/// Runs the build commands of the app at `manifest_path` (those of `only`,
/// when it names components), with `profile`'s where a component has them.
pub(crate) fn build_app(manifest_path: &Path, profile: Option<&str>, only: &[String]) -> anyhow::Result<()> {
    let cannot_read = || format!("Cannot read manifest file from {}", manifest_path.display());
    let manifest_path = &manifest_path.canonicalize().with_context(cannot_read)?;
    let text = std::fs::read_to_string(manifest_path).with_context(cannot_read)?;
    let manifest = parse_manifest(&text, manifest_path, None)?;
    let app_dir = manifest_path.parent().map(Path::to_path_buf).unwrap_or_default();
    let unknown: Vec<&str> =
        only.iter().map(String::as_str).filter(|id| !manifest.components.contains_key(*id)).collect();
    if !unknown.is_empty() {
        bail!("Unknown component(s) {}", unknown.join(", "));
    }
    let mut builds = Vec::new();
    for id in build_order(&manifest) {
        if !only.is_empty() && !only.iter().any(|o| o == id) {
            continue;
        }
        if let Some(config) = build_config(id, &manifest.components[id], profile)? {
            builds.push((id, config));
        }
    }
    if builds.is_empty() {
        println!("None of the components have a build command.");
        println!("For information on specifying a build command, see https://spinframework.dev/build#setting-up-for-spin-build.");
        return Ok(());
    }
    for (id, config) in builds {
        run_build(id, &config, &app_dir)?;
    }
    println!("Finished building all Spin components");
    Ok(())
}

/// The component's build settings: its profile's, else its own.
fn build_config(id: &str, component: &Component, profile: Option<&str>) -> anyhow::Result<Option<BuildConfig>> {
    let chosen =
        profile.and_then(|p| component.profile.get(p)).and_then(|p| p.build.as_ref()).or(component.build.as_ref());
    chosen
        .map(|value| value.clone().try_into::<BuildConfig>())
        .transpose()
        .with_context(|| format!("component `{id}`: invalid build settings"))
}

fn run_build(id: &str, config: &BuildConfig, app_dir: &Path) -> anyhow::Result<()> {
    let commands = config.command.list();
    let workdir = match &config.workdir {
        Some(dir) if Path::new(dir).has_root() => {
            bail!("The workdir specified in the application file must be relative.")
        }
        Some(dir) => app_dir.join(dir),
        None => app_dir.to_path_buf(),
    };
    if commands.len() > 1 {
        println!("Building component {id} ({} commands)", commands.len());
    }
    for (index, command) in commands.iter().enumerate() {
        if commands.len() > 1 {
            println!("Running build step {}/{} for component {id} with '{command}'", index + 1, commands.len());
        } else {
            println!("Building component {id} with `{command}`");
        }
        if config.workdir.is_some() {
            println!("Working directory: {:?}", workdir.display().to_string());
        }
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(&workdir)
            .status()
            .with_context(|| format!("Cannot spawn build process '{command}' for component {id}"))?;
        if !status.success() {
            bail!("Build command for component {id} failed with status {status}");
        }
    }
    Ok(())
}

/// The components in the order they are built: by id, but each after the
/// components whose Wasm it depends on (those in its dependencies' order). A
/// cycle is broken where it is met.
fn build_order(manifest: &AppManifest) -> Vec<&str> {
    let by_source: BTreeMap<&str, &str> = manifest
        .components
        .iter()
        .filter_map(|(id, c)| match &c.source {
            ComponentSource::Local(path) => Some((path.as_str(), id.as_str())),
            _ => None,
        })
        .collect();
    let producers: BTreeMap<&str, Vec<&str>> = manifest
        .components
        .iter()
        .map(|(id, component)| {
            let wanted = component.dependencies.values().filter_map(|dep| match &dep.source {
                DependencySource::Component(id) => Some(id.as_str()),
                DependencySource::Path(path) => by_source.get(path.as_str()).copied(),
                _ => None,
            });
            (id.as_str(), wanted.collect())
        })
        .collect();
    fn visit<'m>(
        id: &'m str,
        producers: &BTreeMap<&'m str, Vec<&'m str>>,
        order: &mut Vec<&'m str>,
        path: &mut Vec<&'m str>,
    ) {
        let Some(wanted) = producers.get(id) else { return };
        if order.contains(&id) || path.contains(&id) {
            return;
        }
        path.push(id);
        for producer in wanted {
            visit(producer, producers, order, path);
        }
        path.pop();
        order.push(id);
    }
    let mut order = Vec::new();
    for id in producers.keys() {
        visit(id, &producers, &mut order, &mut Vec::new());
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> AppManifest {
        parse_manifest(text, Path::new("spin.toml"), None).unwrap()
    }

    #[test]
    fn a_component_is_built_after_the_wasm_it_depends_on() {
        let app = manifest(
            r#"spin_manifest_version = 2
[application]
name = "order"
[[trigger.http]]
route = "/..."
component = "a-front"
[component.a-front]
source = "front.wasm"
dependencies = { "x:y/z" = { path = "lib.wasm" }, "x:y/w" = { component = "c-other" } }
[component.b-lib]
source = "lib.wasm"
[component.c-other]
source = "other.wasm"
"#,
        );
        // `x:y/w` comes before `x:y/z`: c-other, then b-lib, before a-front.
        assert_eq!(build_order(&app), ["c-other", "b-lib", "a-front"]);
    }
}
