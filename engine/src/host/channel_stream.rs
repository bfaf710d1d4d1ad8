//! A channel's items as a component-model stream: each item is handed to the
//! guest as it arrives (a database's rows as the server sends them), and the
//! stream ends when the sender does; with a future of the outcome, that is a
//! streamed query result. The sending side of such a result counts the bytes
//! of its rows against one cap for every database (SQLite's).

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use wasmtime::component::{Destination, FutureReader, Lift, Lower, StreamProducer, StreamReader, StreamResult};
use wasmtime::{AsContextMut, StoreContextMut};

/// The largest result a query returns, counted as held in memory.
const MAX_RESULT_BYTES: usize = crate::host::sqlite::DEFAULT_MAX_RESULT_BYTES;

/// A result that grew past [`MAX_RESULT_BYTES`]; its text is the guest's error.
#[derive(Debug)]
pub(crate) struct ResultTooLarge;

impl std::fmt::Display for ResultTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "query result exceeds the limit of {MAX_RESULT_BYTES} bytes")
    }
}

/// The sending side of a streamed result's rows.
pub(crate) struct RowSender<R> {
    rows: mpsc::Sender<R>,
    bytes: usize,
}

/// A channel for a streamed result's rows, which run a few ahead of the reader.
pub(crate) fn row_channel<R>() -> (RowSender<R>, mpsc::Receiver<R>) {
    let (rows, reader) = mpsc::channel(4);
    (RowSender { rows, bytes: 0 }, reader)
}

impl<R> RowSender<R> {
    /// Sends `row`, which holds about `bytes`: `Ok(false)` when the reader has
    /// gone (stop reading), an error when the result would pass the cap.
    pub(crate) async fn send(&mut self, row: R, bytes: usize) -> Result<bool, ResultTooLarge> {
        self.bytes += bytes;
        if self.bytes > MAX_RESULT_BYTES {
            return Err(ResultTooLarge);
        }
        Ok(self.rows.send(row).await.is_ok())
    }
}

/// Every row of a streamed result, once its outcome says it is whole (`ok`
/// when the sender went away without saying).
pub(crate) async fn gather<R, E>(
    mut rows: mpsc::Receiver<R>,
    outcome: tokio::sync::oneshot::Receiver<Result<(), E>>,
) -> Result<Vec<R>, E> {
    let mut all = Vec::new();
    while let Some(row) = rows.recv().await {
        all.push(row);
    }
    outcome.await.unwrap_or(Ok(()))?;
    Ok(all)
}

/// The items a reader task sends.
pub(crate) struct ChannelStream<T>(pub(crate) mpsc::Receiver<T>);

impl<T: Send + Sync + 'static, D> StreamProducer<D> for ChannelStream<T> {
    type Item = T;
    type Buffer = Option<T>;

    fn poll_produce<'a>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _: StoreContextMut<'a, D>,
        mut destination: Destination<'a, Self::Item, Self::Buffer>,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        match self.get_mut().0.poll_recv(cx) {
            Poll::Ready(Some(item)) => {
                destination.set_buffer(Some(item));
                Poll::Ready(Ok(StreamResult::Completed))
            }
            Poll::Ready(None) => Poll::Ready(Ok(StreamResult::Dropped)),
            Poll::Pending if finish => Poll::Ready(Ok(StreamResult::Cancelled)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The rows of a streamed result and its outcome, as guest handles.
pub(crate) type StreamedRows<R, E> = (StreamReader<R>, FutureReader<Result<(), E>>);

/// A streamed query result as the guest receives it: the rows `rows` sends,
/// as a stream, and `outcome`, as a future (`ok` when the sender went away
/// without saying).
pub(crate) fn streamed_rows<S, R, E>(
    mut store: S,
    rows: mpsc::Receiver<R>,
    outcome: tokio::sync::oneshot::Receiver<Result<(), E>>,
) -> wasmtime::Result<StreamedRows<R, E>>
where
    S: AsContextMut,
    R: Lower + Lift + Send + Sync + 'static,
    Result<(), E>: Lower + Lift + Send + Sync + 'static,
{
    let rows = StreamReader::new(&mut store, ChannelStream(rows))?;
    let outcome =
        FutureReader::new(&mut store, async move { Ok::<_, wasmtime::Error>(outcome.await.unwrap_or(Ok(()))) })?;
    Ok((rows, outcome))
}
