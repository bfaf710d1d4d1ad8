//! A query's rows as a component-model stream: each row is handed to the guest
//! as it arrives from the server, and the stream ends when the rows do.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use wasmtime::component::{Destination, StreamProducer, StreamResult};
use wasmtime::StoreContextMut;

use super::bindings::spin::postgres4_2_0::postgres::DbValue;

/// The rows a query's reader task sends.
pub(super) struct RowProducer(pub(super) mpsc::Receiver<Vec<DbValue>>);

impl<D> StreamProducer<D> for RowProducer {
    type Item = Vec<DbValue>;
    type Buffer = Option<Vec<DbValue>>;

    fn poll_produce<'a>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _: StoreContextMut<'a, D>,
        mut destination: Destination<'a, Self::Item, Self::Buffer>,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        match self.get_mut().0.poll_recv(cx) {
            Poll::Ready(Some(row)) => {
                destination.set_buffer(Some(row));
                Poll::Ready(Ok(StreamResult::Completed))
            }
            Poll::Ready(None) => Poll::Ready(Ok(StreamResult::Dropped)),
            Poll::Pending if finish => Poll::Ready(Ok(StreamResult::Cancelled)),
            Poll::Pending => Poll::Pending,
        }
    }
}
