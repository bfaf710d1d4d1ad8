//! `wasi:io/poll` and `wasi:io/streams` of the 2023-10-18 pre-release, over
//! wasmtime's 0.2 implementation (which lives on the resource table).
//!
//! What differs from 0.2: polling is `poll-list` and `poll-one`, the stream
//! error resource lives in `streams`, `splice` takes its source stream (and
//! drops it), and `forward` copies a whole stream.

use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::io as latest;
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, IoError, StreamError};
use wasmtime_wasi_http::WasiHttpCtxView;

use super::bindings::wasi::io::{poll, streams};

type StreamResult<T> = Result<T, StreamError>;

/// How much `forward` moves per step.
const FORWARD_CHUNK: u64 = 64 * 1024;

impl poll::Host for WasiHttpCtxView<'_> {
    async fn poll_list(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        latest::poll::Host::poll(&mut *self.table, pollables).await
    }

    async fn poll_one(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        latest::poll::HostPollable::block(&mut *self.table, pollable).await
    }
}

impl poll::HostPollable for WasiHttpCtxView<'_> {
    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        latest::poll::HostPollable::drop(&mut *self.table, pollable)
    }
}

impl streams::Host for WasiHttpCtxView<'_> {
    fn convert_stream_error(&mut self, err: StreamError) -> wasmtime::Result<streams::StreamError> {
        match err {
            StreamError::Closed => Ok(streams::StreamError::Closed),
            StreamError::LastOperationFailed(e) => Ok(streams::StreamError::LastOperationFailed(self.table.push(e)?)),
            StreamError::Trap(e) => Err(e),
        }
    }
}

impl streams::HostError for WasiHttpCtxView<'_> {
    fn to_debug_string(&mut self, err: Resource<IoError>) -> wasmtime::Result<String> {
        latest::error::HostError::to_debug_string(&mut *self.table, err)
    }

    fn drop(&mut self, err: Resource<IoError>) -> wasmtime::Result<()> {
        latest::error::HostError::drop(&mut *self.table, err)
    }
}

impl streams::HostInputStream for WasiHttpCtxView<'_> {
    fn read(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<Vec<u8>> {
        latest::streams::HostInputStream::read(&mut *self.table, stream, len)
    }

    async fn blocking_read(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<Vec<u8>> {
        latest::streams::HostInputStream::blocking_read(&mut *self.table, stream, len).await
    }

    fn skip(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        latest::streams::HostInputStream::skip(&mut *self.table, stream, len)
    }

    async fn blocking_skip(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        latest::streams::HostInputStream::blocking_skip(&mut *self.table, stream, len).await
    }

    fn subscribe(&mut self, stream: Resource<DynInputStream>) -> wasmtime::Result<Resource<DynPollable>> {
        latest::streams::HostInputStream::subscribe(&mut *self.table, stream)
    }

    async fn drop(&mut self, stream: Resource<DynInputStream>) -> wasmtime::Result<()> {
        latest::streams::HostInputStream::drop(&mut *self.table, stream).await
    }
}

impl streams::HostOutputStream for WasiHttpCtxView<'_> {
    fn check_write(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<u64> {
        latest::streams::HostOutputStream::check_write(&mut *self.table, stream)
    }

    fn write(&mut self, stream: Resource<DynOutputStream>, contents: Vec<u8>) -> StreamResult<()> {
        latest::streams::HostOutputStream::write(&mut *self.table, stream, contents)
    }

    async fn blocking_write_and_flush(
        &mut self,
        stream: Resource<DynOutputStream>,
        contents: Vec<u8>,
    ) -> StreamResult<()> {
        latest::streams::HostOutputStream::blocking_write_and_flush(&mut *self.table, stream, contents).await
    }

    fn flush(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<()> {
        latest::streams::HostOutputStream::flush(&mut *self.table, stream)
    }

    async fn blocking_flush(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<()> {
        latest::streams::HostOutputStream::blocking_flush(&mut *self.table, stream).await
    }

    fn subscribe(&mut self, stream: Resource<DynOutputStream>) -> wasmtime::Result<Resource<DynPollable>> {
        latest::streams::HostOutputStream::subscribe(&mut *self.table, stream)
    }

    fn write_zeroes(&mut self, stream: Resource<DynOutputStream>, len: u64) -> StreamResult<()> {
        latest::streams::HostOutputStream::write_zeroes(&mut *self.table, stream, len)
    }

    async fn blocking_write_zeroes_and_flush(
        &mut self,
        stream: Resource<DynOutputStream>,
        len: u64,
    ) -> StreamResult<()> {
        latest::streams::HostOutputStream::blocking_write_zeroes_and_flush(&mut *self.table, stream, len).await
    }

    async fn splice(
        &mut self,
        stream: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        let moved = latest::streams::HostOutputStream::splice(&mut *self.table, stream, borrow(&src), len);
        drop_source(self.table, src).await?;
        moved
    }

    async fn blocking_splice(
        &mut self,
        stream: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        let moved =
            latest::streams::HostOutputStream::blocking_splice(&mut *self.table, stream, borrow(&src), len).await;
        drop_source(self.table, src).await?;
        moved
    }

    async fn forward(&mut self, stream: Resource<DynOutputStream>, src: Resource<DynInputStream>) -> StreamResult<u64> {
        let mut total = 0u64;
        let outcome = loop {
            let step = latest::streams::HostOutputStream::blocking_splice(
                &mut *self.table,
                borrow(&stream),
                borrow(&src),
                FORWARD_CHUNK,
            )
            .await;
            match step {
                Ok(n) => total += n,
                Err(StreamError::Closed) => break Ok(total),
                Err(e) => break Err(e),
            }
        };
        drop_source(self.table, src).await?;
        outcome
    }

    async fn drop(&mut self, stream: Resource<DynOutputStream>) -> wasmtime::Result<()> {
        latest::streams::HostOutputStream::drop(&mut *self.table, stream).await
    }
}

/// Drops the source stream a splice took.
async fn drop_source(table: &mut ResourceTable, src: Resource<DynInputStream>) -> StreamResult<()> {
    latest::streams::HostInputStream::drop(table, src).await.map_err(StreamError::Trap)
}

/// A borrow of the resource `owned` names, to lend to a 0.2 function.
fn borrow<T: 'static>(owned: &Resource<T>) -> Resource<T> {
    Resource::new_borrow(owned.rep())
}
