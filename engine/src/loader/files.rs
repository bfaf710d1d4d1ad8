//! Resolution of a component's `files` / `exclude_files` (spec §1.3) into locked
//! [`ContentPath`]s.
//!
//! Decision on the shape of the output:
//! - a directory placed with no `exclude_files` (`{ source = "dir", destination = "/d" }`, or
//!   a string naming an existing directory, which keeps its relative path) becomes ONE entry
//!   whose source is the `file://` URL of the directory: a direct mount, nothing is copied;
//! - every other placement (glob matches, single files, directories when `exclude_files` is
//!   set) becomes one entry per file, `{ source = file:///abs/file, path = /guest/path }`.
//!
//! The runtime preopens direct directory mounts as they are and materialises per-file entries
//! into a per-component staging directory (see [`super::staging`]).
//!
//! "Inside the app directory" is checked twice: lexically (`..` resolved without the file
//! system), and on the real path with every symlink resolved, so a link inside the app
//! directory that points elsewhere (`static/passwd -> /etc/passwd`) is refused, never staged.

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};
use glob::Pattern;

use crate::locked::{ContentPath, ContentRef};
use crate::manifest::v2::FileMount;

/// Resolves `files` (relative to the absolute `app_dir`) minus `exclude_files`.
pub(crate) fn resolve_files(
    app_dir: &Path,
    component_id: &str,
    files: &[FileMount],
    exclude_files: &[String],
) -> anyhow::Result<Vec<ContentPath>> {
    let resolver = FileResolver::new(app_dir, exclude_files)
        .with_context(|| format!("component `{component_id}`: invalid exclude_files"))?;
    let mut out = Vec::new();
    for mount in files {
        let (result, shown) = match mount {
            FileMount::Pattern(pattern) => (resolver.pattern(pattern, &mut out), pattern.clone()),
            FileMount::Placement { source, destination } => (
                resolver.placement(source, destination, &mut out),
                format!("{{ source = \"{source}\", destination = \"{destination}\" }}"),
            ),
        };
        result.with_context(|| format!("component `{component_id}`: files entry `{shown}`"))?;
    }
    Ok(out)
}

/// Spin's `--direct-mounts` rule: each `files` entry names a directory of the
/// app (mounted as it is), and nothing is excluded.
pub(crate) fn require_direct_mounts(
    app_dir: &Path,
    files: &[FileMount],
    exclude_files: &[String],
) -> anyhow::Result<()> {
    if !files.is_empty() && !exclude_files.is_empty() {
        bail!("Cannot load a component with `exclude_files` using --direct-mounts");
    }
    for mount in files {
        let source = match mount {
            FileMount::Pattern(pattern) => pattern,
            FileMount::Placement { source, .. } => source,
        };
        if !app_dir.join(source).is_dir() {
            bail!("Only directory mounts are supported with `--direct-mounts`; {source:?} is not a directory.");
        }
    }
    Ok(())
}

struct FileResolver<'a> {
    app_dir: &'a Path,
    /// `app_dir` with its own symlinks resolved.
    real_app_dir: PathBuf,
    excludes: Vec<Pattern>,
}

impl<'a> FileResolver<'a> {
    fn new(app_dir: &'a Path, exclude_files: &[String]) -> anyhow::Result<Self> {
        let excludes = exclude_files
            .iter()
            .map(|p| Pattern::new(p).with_context(|| format!("`{p}` is not a valid glob")))
            .collect::<anyhow::Result<_>>()?;
        let real_app_dir = app_dir.canonicalize().unwrap_or_else(|_| app_dir.to_path_buf());
        Ok(Self { app_dir, real_app_dir, excludes })
    }

    /// Refuses `abs` when its real path (symlinks resolved) leaves the app directory.
    fn really_inside(&self, abs: &Path) -> anyhow::Result<()> {
        let real = abs.canonicalize().with_context(|| format!("cannot resolve {}", abs.display()))?;
        if !real.starts_with(&self.real_app_dir) {
            bail!(
                "{} is a link to {}, outside the app directory {}; files must be inside it",
                abs.display(),
                real.display(),
                self.app_dir.display()
            );
        }
        Ok(())
    }

    /// A string item: an existing dir or file keeps its relative path; otherwise a glob.
    fn pattern(&self, pattern: &str, out: &mut Vec<ContentPath>) -> anyhow::Result<()> {
        if matches!(pattern, "*" | "**/*") {
            tracing::warn!(
                "files pattern `{pattern}` maps every file in the app directory (including spin.toml and build output); consider a narrower pattern"
            );
        }
        let abs = self.inside_app(pattern)?;
        let relative_guest = Path::new("/").join(self.relative(&abs));
        if abs.is_dir() {
            self.directory(&abs, &relative_guest, out)
        } else if abs.is_file() {
            self.file(&abs, relative_guest, out)
        } else if looks_like_glob(pattern) {
            self.glob(&abs, out)
        } else {
            bail!("`{pattern}` does not exist and doesn't appear to be a glob pattern")
        }
    }

    /// A `{ source, destination }` item.
    fn placement(&self, source: &str, destination: &str, out: &mut Vec<ContentPath>) -> anyhow::Result<()> {
        let guest = Path::new(destination);
        if !guest.is_absolute() || guest.components().any(|c| c == Component::ParentDir) {
            bail!("destination `{destination}` must be an absolute guest path without `..`");
        }
        let abs = self.inside_app(source)?;
        if abs.is_dir() {
            self.directory(&abs, guest, out)
        } else if abs.is_file() {
            self.file(&abs, guest.to_path_buf(), out)
        } else {
            bail!("source `{source}` ({}) does not exist", abs.display())
        }
    }

    fn directory(&self, dir: &Path, guest: &Path, out: &mut Vec<ContentPath>) -> anyhow::Result<()> {
        self.really_inside(dir)?;
        if self.excludes.is_empty() {
            out.push(content_path(dir, guest.to_path_buf())?);
            return Ok(());
        }
        let walker = walkdir::WalkDir::new(dir).follow_links(true).sort_by_file_name();
        for entry in walker {
            let entry = entry.with_context(|| format!("cannot read directory {}", dir.display()))?;
            if entry.file_type().is_file() {
                let inner = entry.path().strip_prefix(dir).expect("walkdir yields children");
                self.file(entry.path(), guest.join(inner), out)?;
            }
        }
        Ok(())
    }

    fn glob(&self, abs_pattern: &Path, out: &mut Vec<ContentPath>) -> anyhow::Result<()> {
        let relative = self.relative(abs_pattern).to_string_lossy().into_owned();
        let app_dir = self.app_dir.to_str().context("the app directory path is not UTF-8")?;
        let full = format!("{}/{relative}", Pattern::escape(app_dir));
        let matches = glob::glob(&full).context("invalid glob pattern")?;
        for path in matches {
            let path = path.context("cannot read a path matched by the glob")?;
            if path.is_file() {
                let guest = Path::new("/").join(self.relative(&path));
                self.file(&path, guest, out)?;
            }
        }
        Ok(())
    }

    fn file(&self, abs: &Path, guest: PathBuf, out: &mut Vec<ContentPath>) -> anyhow::Result<()> {
        if !self.is_excluded(abs) {
            self.really_inside(abs)?;
            out.push(content_path(abs, guest)?);
        }
        Ok(())
    }

    fn is_excluded(&self, abs: &Path) -> bool {
        let relative = self.relative(abs);
        self.excludes.iter().any(|p| p.matches_path(relative))
    }

    /// `app_dir/relative`, normalised lexically; an error if it leaves the app directory.
    fn inside_app(&self, relative: &str) -> anyhow::Result<PathBuf> {
        let abs = normalize_lexically(&self.app_dir.join(relative));
        if !abs.starts_with(self.app_dir) {
            bail!("`{relative}` is outside the app directory {}; files must be inside it", self.app_dir.display());
        }
        Ok(abs)
    }

    fn relative<'p>(&self, abs: &'p Path) -> &'p Path {
        abs.strip_prefix(self.app_dir).unwrap_or(abs)
    }
}

fn content_path(host: &Path, guest: PathBuf) -> anyhow::Result<ContentPath> {
    Ok(ContentPath { content: ContentRef::from_path(host)?, path: guest })
}

fn looks_like_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

/// Resolves `.` and `..` components without touching the file system.
pub(crate) fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn symlinks_out_of_the_app_directory_are_refused_in_every_form() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), "s").unwrap();
        let app = tree();
        let root = app.path();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("static/passwd")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("elsewhere")).unwrap();
        let cases = [
            FileMount::Pattern("static/passwd".into()),
            FileMount::Pattern("static/*".into()),
            FileMount::Pattern("elsewhere".into()),
            FileMount::Placement { source: "static/passwd".into(), destination: "/p".into() },
            FileMount::Placement { source: "elsewhere".into(), destination: "/e".into() },
        ];
        for mount in cases {
            let err = resolve_files(root, "c", std::slice::from_ref(&mount), &[]).unwrap_err();
            assert!(format!("{err:#}").contains("outside the app directory"), "{mount:?}: {err:#}");
        }
        // A directory walked for exclude_files meets the link inside it.
        let err = resolve_files(root, "c", &[FileMount::Pattern("static".into())], &["*.bak".into()]).unwrap_err();
        assert!(format!("{err:#}").contains("outside the app directory"), "{err:#}");
        // Links that stay inside are fine.
        std::os::unix::fs::symlink(root.join("data.json"), root.join("assets/data-link.json")).unwrap();
        resolve_files(root, "c", &[FileMount::Pattern("assets/data-link.json".into())], &[]).unwrap();
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "static/index.html",
            "static/css/site.css",
            "static/notes.bak",
            "assets/logo.png",
            "assets/deep/font.woff",
            "data.json",
            "spin.toml",
        ] {
            let p = root.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, f).unwrap();
        }
        dir
    }

    fn resolve(root: &Path, files: Vec<FileMount>, exclude: &[&str]) -> anyhow::Result<Vec<(String, String)>> {
        let root = root.canonicalize().unwrap();
        let exclude: Vec<String> = exclude.iter().map(|s| s.to_string()).collect();
        let out = resolve_files(&root, "web", &files, &exclude)?;
        Ok(out
            .into_iter()
            .map(|cp| {
                let host = cp.content.local_path().unwrap();
                let rel = host.strip_prefix(&root).unwrap().display().to_string();
                (rel, cp.path.display().to_string())
            })
            .collect())
    }

    fn pat(s: &str) -> FileMount {
        FileMount::Pattern(s.into())
    }

    fn place(source: &str, destination: &str) -> FileMount {
        FileMount::Placement { source: source.into(), destination: destination.into() }
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn glob_maps_each_file_to_its_relative_path() {
        let dir = tree();
        let got = resolve(dir.path(), vec![pat("static/**/*.html"), pat("*.json")], &[]).unwrap();
        assert_eq!(got, pairs(&[("static/index.html", "/static/index.html"), ("data.json", "/data.json")]));
    }

    #[test]
    fn existing_file_and_directory() {
        let dir = tree();
        let got = resolve(dir.path(), vec![pat("data.json"), pat("./assets")], &[]).unwrap();
        assert_eq!(got, pairs(&[("data.json", "/data.json"), ("assets", "/assets")]));
    }

    #[test]
    fn placement_of_directory_is_a_direct_mount() {
        let dir = tree();
        let got = resolve(dir.path(), vec![place("assets", "/public")], &[]).unwrap();
        assert_eq!(got, pairs(&[("assets", "/public")]));
        let got = resolve(dir.path(), vec![place("data.json", "/etc/data.json")], &[]).unwrap();
        assert_eq!(got, pairs(&[("data.json", "/etc/data.json")]));
    }

    #[test]
    fn exclude_files_expands_directories_per_file() {
        let dir = tree();
        let got =
            resolve(dir.path(), vec![place("static", "/www"), pat("assets/**/*")], &["static/*.bak", "assets/deep/*"])
                .unwrap();
        assert_eq!(
            got,
            pairs(&[
                ("static/css/site.css", "/www/css/site.css"),
                ("static/index.html", "/www/index.html"),
                ("assets/logo.png", "/assets/logo.png"),
            ])
        );
    }

    #[test]
    fn missing_non_glob_path_is_an_error() {
        let dir = tree();
        let err = resolve(dir.path(), vec![pat("nope.txt")], &[]).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("component `web`"), "{msg}");
        assert!(msg.contains("`nope.txt` does not exist and doesn't appear to be a glob pattern"), "{msg}");
        assert!(resolve(dir.path(), vec![pat("nothing/*.txt")], &[]).unwrap().is_empty());
        let err = resolve(dir.path(), vec![place("nope", "/x")], &[]).unwrap_err();
        assert!(format!("{err:#}").contains("does not exist"), "{err:#}");
    }

    #[test]
    fn escaping_paths_are_errors() {
        let dir = tree();
        for bad in [pat("../outside.txt"), pat("static/../../*"), pat("/etc/passwd"), place("..", "/up")] {
            let err = resolve(dir.path(), vec![bad.clone()], &[]).unwrap_err();
            assert!(format!("{err:#}").contains("outside the app directory"), "{bad:?}: {err:#}");
        }
        let err = resolve(dir.path(), vec![place("assets", "relative")], &[]).unwrap_err();
        assert!(format!("{err:#}").contains("absolute guest path"), "{err:#}");
        let err = resolve(dir.path(), vec![place("assets", "/a/../..")], &[]).unwrap_err();
        assert!(format!("{err:#}").contains("absolute guest path"), "{err:#}");
    }

    #[test]
    fn lexical_normalisation() {
        assert_eq!(normalize_lexically(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize_lexically(Path::new("/../x")), PathBuf::from("/x"));
    }
}
