//! A bound on how long a request body may take to arrive.
//!
//! A client that sends its headers and then trickles the body (slowloris on the body)
//! would otherwise hold a handler, and the memory it buffers, for as long as it likes.
//! [`middleware`] wraps every request body in [`DeadlineBody`], which fails once
//! [`crate::http::ServerOptions::body_timeout`] has passed since the request arrived,
//! however steadily bytes come in (a per-read idle timeout would not stop a trickle).
//! The handler's body extraction then fails, and the middleware answers
//! `408 Request Timeout` (code 103) with `Connection: close`, so the connection is
//! dropped too. Other connections are served meanwhile: nothing here blocks.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{sleep, Sleep};

use crate::errors::{ApiError, CODE_INVALID};
use crate::http::AppState;

/// A request body that errors once its deadline has passed.
pub struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
}

impl DeadlineBody {
    /// Wraps `inner`; `expired` is set when the deadline cuts the body off.
    pub fn new(inner: Body, timeout: Duration, expired: Arc<AtomicBool>) -> Self {
        DeadlineBody {
            inner,
            deadline: Box::pin(sleep(timeout)),
            expired,
        }
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.expired.store(true, Ordering::SeqCst);
                Poll::Ready(Some(Err(axum::Error::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "request body timed out",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: bounds the time to receive the request body (see the module docs).
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let timeout = state.options.body_timeout;
    let expired = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| {
        if body.is_end_stream() {
            body
        } else {
            Body::new(DeadlineBody::new(body, timeout, Arc::clone(&expired)))
        }
    });
    let res = next.run(req).await;
    if !expired.load(Ordering::SeqCst) {
        return res;
    }
    let mut res = ApiError::new(StatusCode::REQUEST_TIMEOUT, CODE_INVALID, "Request Timeout")
        .with_detail(format!(
            "The request body did not arrive within {} s.",
            timeout.as_secs_f64()
        ))
        .into_response();
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}
