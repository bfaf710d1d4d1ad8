//! Node installer: copies shim binaries into a bin dir, maps each variant as a
//! containerd runtime handler in the distribution's config, and emits
//! RuntimeClasses. Idempotent, keeps a backup, never restarts unless asked.

mod config_edit;
mod flavor;
mod runtime_class;
mod variant;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub(crate) use config_edit::{add_runtimes, RuntimeEntry};
pub use flavor::{Flavor, Target};
pub(crate) use runtime_class::manifests;
pub use variant::Variant;

/// What to install and where.
pub struct InstallOptions {
    /// Filesystem root (`/` on a node; a fixture folder in tests).
    pub root: PathBuf,
    /// The distribution's containerd packaging.
    pub flavor: Flavor,
    /// Where binaries go, relative to `root` (containerd must find them on its PATH).
    pub bin_dir: PathBuf,
    /// Where the built shim binaries are.
    pub source_dir: PathBuf,
    /// The variants to install.
    pub variants: Vec<Variant>,
    /// Only print what would change.
    pub dry_run: bool,
}

/// What an install did (or would do).
#[derive(Debug, Default)]
pub struct Report {
    /// Binaries copied (already identical ones are skipped).
    pub copied: Vec<PathBuf>,
    /// The config file, if it changed.
    pub config_changed: Option<PathBuf>,
    /// The backup of the previous config, if one was written.
    pub backup: Option<PathBuf>,
    /// Unified diff of the config change.
    pub diff: String,
    /// The restart command for this flavor.
    pub restart: Vec<String>,
}

/// Installs the variants; with `dry_run` changes nothing on disk.
pub fn install(opts: &InstallOptions) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let bin_dir = opts.root.join(opts.bin_dir.strip_prefix("/").unwrap_or(&opts.bin_dir));
    for v in &opts.variants {
        let src = opts.source_dir.join(v.binary());
        let bytes =
            std::fs::read(&src).with_context(|| format!("variant {v}: shim binary {} not found", src.display()))?;
        let dest = bin_dir.join(v.binary());
        if std::fs::read(&dest).ok().as_deref() == Some(&bytes[..]) {
            continue;
        }
        if !opts.dry_run {
            std::fs::create_dir_all(&bin_dir)?;
            let tmp = dest.with_extension("tmp");
            std::fs::write(&tmp, &bytes)?;
            set_executable(&tmp)?;
            std::fs::rename(&tmp, &dest)?;
        }
        report.copied.push(dest);
    }

    let target = opts.flavor.target(&opts.root);
    report.restart = target.restart.iter().map(|s| s.to_string()).collect();
    let existing = std::fs::read_to_string(&target.path).ok();
    let base = match (&existing, &target.seed_from) {
        (Some(text), _) => text.clone(),
        (None, Some(seed)) => std::fs::read_to_string(seed).unwrap_or_default(),
        (None, None) => String::new(),
    };
    let entries: Vec<RuntimeEntry> =
        opts.variants.iter().map(|v| RuntimeEntry { handler: v.handler(), runtime_type: v.runtime_type() }).collect();
    let updated = add_runtimes(&base, &entries).with_context(|| format!("editing {}", target.path.display()))?;
    if existing.as_deref() == Some(updated.as_str()) {
        return Ok(report);
    }
    report.diff = similar::TextDiff::from_lines(existing.as_deref().unwrap_or(""), &updated)
        .unified_diff()
        .header(&target.path.display().to_string(), &target.path.display().to_string())
        .to_string();
    if !opts.dry_run {
        if let (Some(old), false) = (&existing, target.drop_in) {
            let backup = backup_path(&target.path);
            std::fs::write(&backup, old)?;
            report.backup = Some(backup);
        }
        if let Some(dir) = target.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&target.path, &updated)?;
    }
    report.config_changed = Some(target.path);
    Ok(report)
}

fn backup_path(path: &Path) -> PathBuf {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".bak-{secs}"));
    path.with_file_name(name)
}

fn set_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}
