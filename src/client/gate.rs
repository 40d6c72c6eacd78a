//! Single-flight token refresh: however many calls find the token expiring at once,
//! exactly one token request is made; the others wait for its result.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::protocol::auth::Secret;
use crate::protocol::Error;

/// The outcome of one refresh flight, shared with everyone who waited for it.
pub type FlightResult = Result<Secret, Error>;

/// Coordinates refreshes. Single-threaded (wasm), so `Cell`/`RefCell` suffice.
#[derive(Default)]
pub struct Gate {
    in_flight: Cell<bool>,
    generation: Cell<u64>,
    last: RefCell<Option<FlightResult>>,
    waiters: RefCell<Vec<Waker>>,
}

/// Held by the call that performs the refresh. Dropping it without [`Leader::finish`]
/// (the call was cancelled) ends the flight with no result, so a waiter takes over.
pub struct Leader<'a> {
    gate: &'a Gate,
    done: bool,
}

/// What a call should do about the token.
pub enum Turn<'a> {
    /// Perform the refresh, then call [`Leader::finish`].
    Lead(Leader<'a>),
    /// Wait for the flight in progress.
    Wait(Flight<'a>),
}

impl Gate {
    /// Becomes the leader if no refresh is in flight, else returns a future for the
    /// current flight.
    pub fn turn(&self) -> Turn<'_> {
        if self.in_flight.get() {
            Turn::Wait(Flight {
                gate: self,
                generation: self.generation.get(),
            })
        } else {
            self.in_flight.set(true);
            Turn::Lead(Leader {
                gate: self,
                done: false,
            })
        }
    }

    fn end(&self, result: Option<FlightResult>) {
        self.in_flight.set(false);
        self.generation.set(self.generation.get().wrapping_add(1));
        *self.last.borrow_mut() = result;
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for w in waiters {
            w.wake();
        }
    }
}

impl Leader<'_> {
    /// Ends the flight with `result`, waking every waiter.
    pub fn finish(mut self, result: FlightResult) -> FlightResult {
        self.done = true;
        self.gate.end(Some(result.clone()));
        result
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.gate.end(None);
        }
    }
}

/// Resolves when the flight it was created for ends: `Some(result)`, or `None` if the
/// leader was cancelled (the caller should take its turn again).
pub struct Flight<'a> {
    gate: &'a Gate,
    generation: u64,
}

impl Future for Flight<'_> {
    type Output = Option<FlightResult>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.gate.generation.get() != self.generation {
            // Only the flight right after ours can have ended while we were parked,
            // because a new flight needs a new leader, which wakes us when it ends.
            Poll::Ready(self.gate.last.borrow().clone())
        } else {
            self.gate.waiters.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        }
    }
}
