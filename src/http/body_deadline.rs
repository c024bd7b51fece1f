//! A deadline on request bodies. actix-http bounds the time a request head may take
//! (`client_request_timeout`) but not the body after it: a body trickled in a byte every few
//! seconds held its connection, and the handler waiting for it, for ever. Here the whole body
//! must arrive within `CERTRAIL_BODY_TIMEOUT_SECS` (30 s by default) of its head. A total, not
//! an idle timeout between reads: a byte every few seconds would reset any idle timer.
//!
//! Two halves share one [`BodyClock`] per connection:
//! - [`Timed`] wraps the connection's stream. Once the clock's deadline has passed, its reads
//!   answer end-of-stream, as if the client had stopped sending: actix-http fails the body a
//!   handler waits for, writes the answer and closes the connection. A body no handler reads,
//!   which actix-http would otherwise drain for as long as it kept coming, is cut off the same
//!   way.
//! - [`wrap`], a middleware, starts the clock when a request with a body comes in, stops it when
//!   the body has been read to its end, and answers a request whose body was cut off with 408
//!   `request_timeout` in the envelope and `Connection: close`, in place of the error its
//!   handler made of the missing body.
//!
//! Without a connection of ours (the in-process test service), the middleware does nothing.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use actix_rt::time::{sleep_until, Instant, Sleep};
use actix_web::body::EitherBody;
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, ResponseError};
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::AppError;

/// When the body of a connection's current request must be in, shared by the connection's
/// stream and the middleware (one worker thread serves a connection: `Rc` and `Cell` do).
#[derive(Clone)]
pub struct BodyClock(Rc<Clock>);

struct Clock {
    timeout: Duration,
    deadline: Cell<Option<Instant>>,
    /// The deadline passed while it was set: reads were cut off.
    expired: Cell<bool>,
    /// The connection's task, last seen waiting for a read while no deadline was set: woken
    /// when one is, so the read is polled again and the deadline's timer registered.
    reader: Cell<Option<Waker>>,
}

impl BodyClock {
    fn new(timeout: Duration) -> Self {
        BodyClock(Rc::new(Clock {
            timeout,
            deadline: Cell::new(None),
            expired: Cell::new(false),
            reader: Cell::new(None),
        }))
    }

    /// A request's body begins.
    fn start(&self) {
        self.0.deadline.set(Some(Instant::now() + self.0.timeout));
        self.0.expired.set(false);
        if let Some(reader) = self.0.reader.take() {
            reader.wake();
        }
    }

    /// The body is in, or there is none.
    fn stop(&self) {
        self.0.deadline.set(None);
        self.0.expired.set(false);
    }

    /// Whether the current request's body was cut off.
    fn expired(&self) -> bool {
        self.0.expired.get()
    }
}

/// A connection's stream whose reads end at the [`BodyClock`]'s deadline.
pub struct Timed<T> {
    io: T,
    clock: BodyClock,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<T> Timed<T> {
    /// `io`, whose request bodies have `timeout` to arrive.
    pub fn new(io: T, timeout: Duration) -> Self {
        Timed {
            io,
            clock: BodyClock::new(timeout),
            sleep: None,
        }
    }

    /// The clock, for the connection's data (`HttpServiceBuilder::on_connect_ext`).
    pub fn clock(&self) -> BodyClock {
        self.clock.clone()
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Timed<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let clock = &this.clock.0;
        let Some(deadline) = clock.deadline.get() else {
            let read = Pin::new(&mut this.io).poll_read(cx, buf);
            if read.is_pending() {
                let waker = match clock.reader.take() {
                    Some(w) if w.will_wake(cx.waker()) => w,
                    _ => cx.waker().clone(),
                };
                clock.reader.set(Some(waker));
            }
            return read;
        };
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        if sleep.deadline() != deadline {
            sleep.as_mut().reset(deadline);
        }
        if sleep.as_mut().poll(cx).is_ready() {
            // End of stream: nothing is put in `buf`.
            clock.expired.set(true);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Timed<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// A request's body, which stops the clock when it has been read to its end.
struct Watched {
    body: Payload,
    clock: BodyClock,
}

impl Stream for Watched {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let next = Pin::new(&mut this.body).poll_next(cx);
        if let Poll::Ready(None) = next {
            this.clock.stop();
        }
        next
    }
}

/// The middleware (see the module's documentation), for `App::wrap_fn`.
pub fn wrap<S, B>(
    mut req: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let clock = req.conn_data::<BodyClock>().cloned();
    if let Some(clock) = &clock {
        match req.take_payload() {
            Payload::None => clock.stop(),
            body => {
                clock.start();
                let watched = Watched {
                    body,
                    clock: clock.clone(),
                };
                req.set_payload(Payload::from(
                    Box::pin(watched) as actix_http::BoxedPayloadStream
                ));
            }
        }
    }
    let response = service.call(req);
    async move {
        let response = response.await?;
        let failed = response.status().is_client_error() || response.status().is_server_error();
        if !(failed && clock.is_some_and(|c| c.expired())) {
            return Ok(response.map_into_left_body());
        }
        let (req, _) = response.into_parts();
        let mut timeout = AppError::RequestTimeout.error_response();
        timeout
            .head_mut()
            .set_connection_type(ConnectionType::Close);
        Ok(ServiceResponse::new(req, timeout).map_into_right_body())
    }
}
