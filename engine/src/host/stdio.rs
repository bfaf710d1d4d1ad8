//! Where a guest's stdout and stderr go: the process's own (or nowhere),
//! Spin's component log files, `<log_dir>/<component>_stdout.txt` and
//! `_stderr.txt`, appended to across runs (unless truncated at start), and
//! OTLP log records when the app exports logs. The files are opened once per component; every instance
//! writes through them.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use anyhow::Context as _;
use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

use crate::telemetry::{InstanceTraces, OutputLogs};

/// Which components' output the process echoes on its own stdout and stderr,
/// as Spin chooses: every one (the default), those named by `--follow`, or none
/// (`-q`). The log files get every component's output whatever this says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Echo {
    /// Every component's.
    #[default]
    All,
    /// These components' only.
    Only(BTreeSet<String>),
    /// No component's.
    None,
}

impl Echo {
    /// Where `component`'s output goes besides the log files.
    pub(crate) fn mode_for(&self, component: &str) -> StdioMode {
        let echoed = match self {
            Echo::All => true,
            Echo::Only(ids) => ids.contains(component),
            Echo::None => false,
        };
        if echoed {
            StdioMode::Inherit
        } else {
            StdioMode::Null
        }
    }
}

/// Where one component's stdout/stderr go besides the log files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum StdioMode {
    /// The process's own stdout/stderr (in the shim: the container log).
    #[default]
    Inherit,
    /// Discarded.
    Null,
}

/// The runner's log folder, as Spin's `-L`/`SPIN_LOG_DIR` give it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LogDir {
    /// `<state dir>/logs` (what `spin up` does), unless the runtime config's
    /// `log_dir` says otherwise.
    StateDefault,
    /// None, unless the runtime config's `log_dir` names one (a container's
    /// output is its log).
    #[default]
    Unset,
    /// This folder; an empty path turns the files off, whatever the runtime
    /// config says.
    At(PathBuf),
}

impl LogDir {
    /// The folder in use: the runner's own choice, then the runtime config's
    /// `log_dir` (`""` turns it off), then the runner's default.
    pub(crate) fn resolve(&self, configured: Option<PathBuf>, state_dir: Option<&Path>) -> Option<PathBuf> {
        let chosen = match (self, configured) {
            (LogDir::At(dir), _) => Some(dir.clone()),
            (_, Some(dir)) => Some(dir),
            (LogDir::StateDefault, None) => state_dir.map(|s| s.join("logs")),
            (LogDir::Unset, None) => None,
        };
        chosen.filter(|dir| !dir.as_os_str().is_empty())
    }
}

/// One component's two log files.
#[derive(Clone, Debug)]
pub(crate) struct ComponentLogs {
    stdout: Arc<File>,
    stderr: Arc<File>,
}

impl ComponentLogs {
    /// Opens (creating the folder and files) `<dir>/<id>_stdout.txt` and
    /// `_stderr.txt`, to append to them, or emptied first when `truncate`.
    pub(crate) fn open(dir: &Path, id: &str, truncate: bool) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the log folder {}", dir.display()))?;
        let open = |stream: &str| {
            let path = dir.join(format!("{id}_{stream}.txt"));
            // O_APPEND refuses O_TRUNC: the file is emptied once opened.
            let file = std::fs::OpenOptions::new().create(true).append(true).open(&path);
            file.and_then(|file| if truncate { file.set_len(0).map(|()| file) } else { Ok(file) })
                .map(Arc::new)
                .with_context(|| format!("cannot open the log file {}", path.display()))
        };
        Ok(Self { stdout: open("stdout")?, stderr: open("stderr")? })
    }
}

/// Where one component's stdout and stderr go, shared by its instances.
#[derive(Clone, Debug, Default)]
pub(crate) struct OutputRoutes {
    /// Echoed to the process's own streams, or not.
    pub mode: StdioMode,
    /// The component's log files, when the app has a log folder.
    pub files: Option<ComponentLogs>,
    /// The component's stdout and stderr log records, when the app exports logs.
    pub records: Option<(OutputLogs, OutputLogs)>,
}

impl OutputRoutes {
    /// The mode alone, when there is no file and no record to write besides it.
    pub(crate) fn mode_only(&self) -> Option<StdioMode> {
        (self.files.is_none() && self.records.is_none()).then_some(self.mode)
    }

    /// One instance's stdout and stderr; the records of a reused instance
    /// join its requests' traces through `traces`.
    pub(crate) fn streams(&self, traces: Option<&Arc<InstanceTraces>>) -> (LoggedOutput, LoggedOutput) {
        let inherit = self.mode == StdioMode::Inherit;
        let records = self.records.as_ref();
        let stdout = LoggedOutput {
            file: self.files.as_ref().map(|f| f.stdout.clone()),
            echo: inherit.then_some(EchoStream::Stdout),
            records: records.map(|(out, _)| out.for_instance(traces.cloned())),
        };
        let stderr = LoggedOutput {
            file: self.files.as_ref().map(|f| f.stderr.clone()),
            echo: inherit.then_some(EchoStream::Stderr),
            records: records.map(|(_, err)| err.for_instance(traces.cloned())),
        };
        (stdout, stderr)
    }
}

#[derive(Clone, Copy, Debug)]
enum EchoStream {
    Stdout,
    Stderr,
}

/// A guest output stream written to its log file, echoed to the process's
/// own, and recorded as log records, as its component's routes say.
#[derive(Clone, Debug)]
pub(crate) struct LoggedOutput {
    file: Option<Arc<File>>,
    echo: Option<EchoStream>,
    records: Option<OutputLogs>,
}

impl LoggedOutput {
    fn write_all(&self, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(records) = &self.records {
            records.write(bytes);
        }
        if let Some(file) = &self.file {
            (&**file).write_all(bytes)?;
        }
        match self.echo {
            Some(EchoStream::Stdout) => std::io::stdout().write_all(bytes),
            Some(EchoStream::Stderr) => std::io::stderr().write_all(bytes),
            None => Ok(()),
        }
    }

    fn flush(&self) -> std::io::Result<()> {
        match self.echo {
            Some(EchoStream::Stdout) => std::io::stdout().flush(),
            Some(EchoStream::Stderr) => std::io::stderr().flush(),
            None => Ok(()),
        }
    }
}

impl IsTerminal for LoggedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LoggedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LoggedOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for LoggedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_all(&bytes).map_err(|e| StreamError::LastOperationFailed(e.into()))
    }

    fn flush(&mut self) -> StreamResult<()> {
        LoggedOutput::flush(self).map_err(|e| StreamError::LastOperationFailed(e.into()))
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for LoggedOutput {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.write_all(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(LoggedOutput::flush(&self))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runners_choice_wins_then_the_runtime_config_then_the_default() {
        let state = Path::new("/app/.spin");
        let configured = || Some(PathBuf::from("/rc/logs"));
        assert_eq!(LogDir::StateDefault.resolve(None, Some(state)), Some(state.join("logs")));
        assert_eq!(LogDir::StateDefault.resolve(None, None), None);
        assert_eq!(LogDir::StateDefault.resolve(configured(), Some(state)), configured());
        assert_eq!(LogDir::Unset.resolve(None, Some(state)), None);
        assert_eq!(LogDir::Unset.resolve(configured(), None), configured());
        assert_eq!(LogDir::At("/flag".into()).resolve(configured(), Some(state)), Some("/flag".into()));
        assert_eq!(LogDir::At("".into()).resolve(configured(), Some(state)), None);
        assert_eq!(LogDir::StateDefault.resolve(Some("".into()), Some(state)), None);
    }

    #[test]
    fn output_is_appended_to_the_components_files() {
        let dir = tempfile::tempdir().unwrap();
        let files = |id| OutputRoutes {
            mode: StdioMode::Null,
            files: Some(ComponentLogs::open(&dir.path().join("logs"), id, false).unwrap()),
            records: None,
        };
        let (mut out, mut err) = files("api").streams(None);
        OutputStream::write(&mut out, Bytes::from_static(b"one\n")).unwrap();
        OutputStream::write(&mut err, Bytes::from_static(b"oops\n")).unwrap();
        OutputStream::write(&mut files("api").streams(None).0, Bytes::from_static(b"two\n")).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("logs/api_stdout.txt")).unwrap(), "one\ntwo\n");
        assert_eq!(std::fs::read_to_string(dir.path().join("logs/api_stderr.txt")).unwrap(), "oops\n");
    }
}
