//! A small `join_all` for the single-threaded engine: polls every future until all are
//! ready and returns their outputs in order. (The only combinator the engine needs;
//! not worth a dependency.)

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs `futures` concurrently; outputs in the same order.
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut slots: Vec<Slot<F>> = futures
        .into_iter()
        .map(|f| Slot::Pending(Box::pin(f)))
        .collect();
    std::future::poll_fn(move |cx: &mut Context<'_>| {
        let mut all_done = true;
        for slot in slots.iter_mut() {
            if let Slot::Pending(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Slot::Done(Some(v)),
                    Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            Poll::Ready(
                slots
                    .iter_mut()
                    .filter_map(|s| match s {
                        Slot::Done(v) => v.take(),
                        Slot::Pending(_) => None,
                    })
                    .collect(),
            )
        } else {
            Poll::Pending
        }
    })
    .await
}

enum Slot<F: Future> {
    Pending(Pin<Box<F>>),
    Done(Option<F::Output>),
}
