//! Pages of a read fetched ahead in a sliding window: up to `concurrency` requests in
//! flight; as soon as one lands the next page is requested, whatever the order they
//! land in, while pages are handed out strictly in order.
//!
//! Bounds: at most `concurrency` requests in flight and at most `2 × concurrency` pages
//! held (in flight or landed and not yet handed out), so a slow page holds back
//! neither memory nor the others for long. Nothing is requested past the end once it
//! is known: the limit, a short (or empty) page that landed, or a page that failed.
//! Requests still in flight past such an end are dropped, their answers never read.
//! Dropping the window drops (cancels) everything in flight.
//!
//! The window is driven by its caller: requests go on over the network while the
//! caller works on a page, and their answers are read (and the next pages requested)
//! on its next call, so a slow consumer holds at most `concurrency` requests ahead.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::protocol::query::Pager;
use crate::protocol::transcode::PageText;
use crate::protocol::Error;

/// The request of one page, started but not finished.
pub type PageFuture<'a> = Pin<Box<dyn Future<Output = Result<PageText, Error>> + 'a>>;

/// Starts the request of one page (1-based); nothing is sent until it is polled.
pub type StartPage<'a> = Box<dyn FnMut(u32) -> PageFuture<'a> + 'a>;

enum Slot<'a> {
    Flight(PageFuture<'a>),
    Landed(Result<PageText, Error>),
}

/// A read's pages, fetched ahead; see the module docs.
pub struct PageWindow<'a> {
    pager: Pager,
    page_size: u32,
    concurrency: u32,
    /// `false` while only page 1 may be in flight (see [`PageWindow::new`]).
    opened: bool,
    start: StartPage<'a>,
    /// The pages from the pager's next page on, consecutive: in flight or landed.
    slots: VecDeque<Slot<'a>>,
    /// The last page worth requesting, once a short page or an error has landed.
    end: Option<u32>,
}

impl<'a> PageWindow<'a> {
    /// A window over the pages `pager` walks, each of `page_size` records, requested
    /// with `start`. With `ramp`, page 1 is fetched alone and the window opens to
    /// `concurrency` only once it came back full, so a read of one page sends one
    /// request; without, the first `concurrency` pages are requested at once.
    pub fn new(
        pager: Pager,
        page_size: u32,
        concurrency: u32,
        ramp: bool,
        start: StartPage<'a>,
    ) -> PageWindow<'a> {
        PageWindow {
            pager,
            page_size: page_size.max(1),
            concurrency: concurrency.max(1),
            opened: !ramp,
            start,
            slots: VecDeque::new(),
            end: None,
        }
    }

    /// Whether every page has been handed out (or the read failed for good).
    pub fn is_done(&self) -> bool {
        self.pager.is_done()
    }

    /// The next page in order, `None` when the read is done. An error is returned at
    /// the page that failed, after every page before it; calling again then starts
    /// over at that page (unless the error ended the read, as a repeated page does).
    pub async fn next_page(&mut self) -> Result<Option<PageText>, Error> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    fn limit(&self) -> u32 {
        if self.opened {
            self.concurrency
        } else {
            1
        }
    }

    /// Requests pages after those held while fewer than the limit are in flight.
    fn fill(&mut self, first: u32) {
        let c = self.limit();
        let mut flying = self
            .slots
            .iter()
            .filter(|s| matches!(s, Slot::Flight(_)))
            .count();
        let last = match (self.end, self.pager.last_page()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        while flying < c as usize && self.slots.len() < 2 * c as usize {
            let Some(page) = u32::try_from(self.slots.len())
                .ok()
                .and_then(|n| first.checked_add(n))
            else {
                break;
            };
            if last.is_some_and(|l| page > l) {
                break;
            }
            self.slots.push_back(Slot::Flight((self.start)(page)));
            flying += 1;
        }
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<PageText>, Error>> {
        loop {
            let Some(first) = self.pager.next_page() else {
                self.slots.clear();
                return Poll::Ready(Ok(None));
            };
            self.fill(first);
            let mut landed = false;
            let mut i = 0;
            while i < self.slots.len() {
                if let Some(Slot::Flight(f)) = self.slots.get_mut(i) {
                    if let Poll::Ready(result) = f.as_mut().poll(cx) {
                        landed = true;
                        let page = first.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
                        let full = matches!(&result, Ok(p) if p.len() >= self.page_size as usize);
                        if !full {
                            // The read ends here (short page) or stops here (error):
                            // later pages are not needed; drop their requests.
                            self.end = Some(self.end.map_or(page, |e| e.min(page)));
                            self.slots.truncate(i + 1);
                        } else if page == 1 {
                            self.opened = true;
                        }
                        if let Some(slot) = self.slots.get_mut(i) {
                            *slot = Slot::Landed(result);
                        }
                    }
                }
                i += 1;
            }
            if matches!(self.slots.front(), Some(Slot::Landed(_))) {
                let Some(Slot::Landed(result)) = self.slots.pop_front() else {
                    continue;
                };
                let out = self.accept(result);
                // Keep the window full while the caller works on this page (not at
                // concurrency 1: one page at a time, nothing fetched ahead).
                if self.limit() > 1 {
                    if let Some(next) = self.pager.next_page() {
                        self.fill(next);
                    }
                }
                return Poll::Ready(out);
            }
            if self.slots.is_empty() {
                // Nothing left to request (cannot happen while the pager is not done).
                return Poll::Ready(Ok(None));
            }
            if !landed {
                return Poll::Pending;
            }
        }
    }

    /// Hands the landed front page to the pager, which keeps what the limit allows.
    fn accept(&mut self, result: Result<PageText, Error>) -> Result<Option<PageText>, Error> {
        let accepted = result.and_then(|mut page| {
            let keep = self.pager.accept_ids(&page.ids, page.len())?;
            page.truncate(keep);
            Ok(page)
        });
        match accepted {
            Ok(page) => {
                if self.pager.is_done() {
                    self.slots.clear();
                }
                Ok((!page.is_empty()).then_some(page))
            }
            Err(e) => {
                // Start over at the failed page on the next call.
                self.slots.clear();
                self.end = None;
                Err(e)
            }
        }
    }
}
