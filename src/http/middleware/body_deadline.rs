//! A deadline for request bodies (`server.request_timeout_secs`): a client that sends
//! its headers and then trickles or stops the body would otherwise hold a connection
//! and a worker's attention for as long as it likes. The body stream ends with a
//! timed-out error at the deadline; the extractor then answers 408 `request_timeout`
//! and the connection is closed.

use crate::http::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{Error, HttpMessage};
use futures_util::Stream;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep, sleep_until};

/// Whether a body error is this deadline's.
pub fn timed_out(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

pub async fn limit(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let secs = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.app.config.server.request_timeout_secs);
    if let Some(secs) = secs {
        let inner = req.take_payload();
        let deadline = Instant::now() + Duration::from_secs(secs);
        req.set_payload(Payload::Stream {
            payload: Box::pin(Deadline {
                inner,
                deadline,
                sleep: None,
                done: false,
            }),
        });
    }
    next.call(req).await
}

/// The body, ending with an error once the deadline passes.
struct Deadline {
    inner: Payload,
    deadline: Instant,
    /// Started only when the body is first waited for (most requests have none).
    sleep: Option<Pin<Box<Sleep>>>,
    done: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            this.done = item.is_none();
            return Poll::Ready(item);
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_ready() {
            this.done = true;
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            )))));
        }
        Poll::Pending
    }
}
