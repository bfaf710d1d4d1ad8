//! Reading a WASI 0.3 guest's response body ahead, before hyper writes the head.
//!
//! A 0.3 guest returns its response first and writes the body afterwards, from
//! a task of its instance that runs on the same thread as the connection. When
//! hyper got the response at once, it found the body's first bytes ready and its
//! end not yet (the guest had not run again), wrote what it had and then the
//! end chunk alone: two `writev`s, two packets, and a chunked body for a few
//! bytes. Here the body is read while passes over the thread's other tasks
//! bring more of it: a body that ends that way (up to [`READ_AHEAD_LIMIT`])
//! leaves as one write with a `content-length`; any other streams on, after
//! at most [`READ_AHEAD_PASSES`] passes without a frame or [`READ_AHEAD_TIME`],
//! with what was read ahead in front.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::BodyExt as _;

use crate::body::{full, Body, BoxError};

/// The most a response body is read ahead; a longer one streams.
const READ_AHEAD_LIMIT: usize = 64 * 1024;

/// The most frames read ahead (a guest may write empty ones).
const READ_AHEAD_FRAMES: usize = 64;

/// How many passes over the thread's tasks may go by without a frame before
/// the body streams. A guest's body ends after several turns of its
/// instance's event loop (the last bytes taken, the stream closed, the
/// trailers future written), each taken in a pass, and an instance serves up
/// to 16 requests at once: with 8, about four hello responses in ten under
/// load still ended in a write of their own; with 16, none did.
const READ_AHEAD_PASSES: usize = 16;

/// The longest a response's head waits for its body to be read ahead, so a
/// guest that streams (server-sent events) gets its head out at once even on
/// a busy thread.
const READ_AHEAD_TIME: Duration = Duration::from_millis(1);

/// `body`, read ahead as far as the guest writes it without waiting for anything
/// but its own thread: whole (as one buffer with its length) when it ends so,
/// else what was read followed by the rest as it comes.
pub(crate) async fn read_ahead(mut body: Body) -> Body {
    let mut read: VecDeque<Frame<Bytes>> = VecDeque::new();
    let mut bytes = 0;
    let mut passes_without_a_frame = 0;
    let until = Instant::now() + READ_AHEAD_TIME;
    loop {
        match poll_fn(|cx| Poll::Ready(Pin::new(&mut body).poll_frame(cx))).await {
            Poll::Ready(None) => return whole(read, bytes),
            Poll::Ready(Some(Ok(frame))) => {
                passes_without_a_frame = 0;
                let is_data = frame.is_data();
                bytes += frame.data_ref().map_or(0, Bytes::len);
                read.push_back(frame);
                if !is_data || bytes > READ_AHEAD_LIMIT || read.len() >= READ_AHEAD_FRAMES {
                    // Trailers end the body but for its end; a long body streams.
                    break;
                }
            }
            Poll::Ready(Some(Err(e))) => return Prefixed { read, error: Some(e), rest: body }.boxed_unsync(),
            // Nothing ready: let the thread's other tasks (the guest's among
            // them) run once more, within the bounds.
            Poll::Pending if passes_without_a_frame < READ_AHEAD_PASSES && Instant::now() < until => {
                passes_without_a_frame += 1;
                pass_once().await;
            }
            Poll::Pending => break,
        }
    }
    Prefixed { read, error: None, rest: body }.boxed_unsync()
}

/// The data frames of a body that has ended, as one buffer.
fn whole(read: VecDeque<Frame<Bytes>>, bytes: usize) -> Body {
    let mut data = read.into_iter().filter_map(|frame| frame.into_data().ok());
    match (data.next(), bytes) {
        (None, _) => full(Bytes::new()),
        (Some(only), n) if only.len() == n => full(only),
        (Some(first), _) => {
            let mut joined = BytesMut::with_capacity(bytes);
            joined.extend_from_slice(&first);
            data.for_each(|chunk| joined.extend_from_slice(&chunk));
            full(joined.freeze())
        }
    }
}

/// Returns `Pending` once, with the task woken, so the thread runs its other
/// ready tasks before this one goes on.
async fn pass_once() {
    let mut passed = false;
    poll_fn(|cx: &mut Context<'_>| {
        if passed {
            Poll::Ready(())
        } else {
            passed = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// The frames read ahead, then the error that stopped the reading (if any),
/// then the rest of the body.
struct Prefixed {
    read: VecDeque<Frame<Bytes>>,
    error: Option<BoxError>,
    rest: Body,
}

impl http_body::Body for Prefixed {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(frame) = self.read.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        if let Some(error) = self.error.take() {
            return Poll::Ready(Some(Err(error)));
        }
        Pin::new(&mut self.rest).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.read.is_empty() && self.error.is_none() && self.rest.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let read: u64 = self.read.iter().filter_map(Frame::data_ref).map(|d| d.len() as u64).sum();
        let rest = self.rest.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower() + read);
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + read);
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokio::sync::mpsc;

    /// A body fed by a channel, as a guest task writes one.
    fn channel_body() -> (mpsc::Sender<Result<Frame<Bytes>, BoxError>>, Body) {
        let (tx, rx) = mpsc::channel(8);
        let stream = tokio_stream_of(rx);
        (tx, http_body_util::StreamBody::new(stream).boxed_unsync())
    }

    fn tokio_stream_of(
        mut rx: mpsc::Receiver<Result<Frame<Bytes>, BoxError>>,
    ) -> impl futures::Stream<Item = Result<Frame<Bytes>, BoxError>> {
        futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }

    fn data(text: &'static str) -> Result<Frame<Bytes>, BoxError> {
        Ok(Frame::data(Bytes::from_static(text.as_bytes())))
    }

    async fn collected(body: Body) -> Vec<u8> {
        body.collect().await.unwrap().to_bytes().to_vec()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_body_the_writer_ends_on_the_same_thread_comes_whole_with_its_length() {
        let (tx, body) = channel_body();
        // The writer, like a guest's task: a chunk, then another, then the end,
        // each after the reader has looked.
        tokio::spawn(async move {
            for chunk in ["Hello, ", "world"] {
                tx.send(data(chunk)).await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        let body = read_ahead(body).await;
        assert_eq!(body.size_hint().exact(), Some(12), "a known length");
        assert_eq!(collected(body).await, b"Hello, world");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_body_still_being_written_streams_after_a_few_passes() {
        let (tx, body) = channel_body();
        tx.send(data("first")).await.unwrap();
        let body = tokio::time::timeout(Duration::from_secs(5), read_ahead(body)).await.expect("did not wait");
        assert_eq!(body.size_hint().exact(), None, "streams: no length");
        let later = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            tx.send(data(" then more")).await.unwrap();
        });
        assert_eq!(collected(body).await, b"first then more");
        later.await.unwrap();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_long_body_streams_and_keeps_every_byte() {
        let (tx, body) = channel_body();
        let chunk = Bytes::from(vec![7u8; 16 * 1024]);
        let writer = tokio::spawn({
            let chunk = chunk.clone();
            async move {
                for _ in 0..8 {
                    tx.send(Ok(Frame::data(chunk.clone()))).await.unwrap();
                }
            }
        });
        let body = read_ahead(body).await;
        assert_eq!(body.size_hint().exact(), None, "over the limit: streams");
        assert_eq!(collected(body).await.len(), 8 * chunk.len());
        writer.await.unwrap();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn trailers_and_errors_reach_the_client_in_order() {
        let (tx, body) = channel_body();
        let mut trailers = http::HeaderMap::new();
        trailers.insert("x-sum", "42".parse().unwrap());
        tx.send(data("body")).await.unwrap();
        tx.send(Ok(Frame::trailers(trailers))).await.unwrap();
        drop(tx);
        let all = read_ahead(body).await.collect().await.unwrap();
        assert_eq!(all.trailers().unwrap()["x-sum"], "42");
        assert_eq!(all.to_bytes(), "body");

        let (tx, body) = channel_body();
        tx.send(data("part")).await.unwrap();
        tx.send(Err("the guest trapped".into())).await.unwrap();
        let mut body = read_ahead(body).await;
        assert_eq!(body.frame().await.unwrap().unwrap().into_data().unwrap(), "part");
        assert_eq!(body.frame().await.unwrap().unwrap_err().to_string(), "the guest trapped");
    }
}
