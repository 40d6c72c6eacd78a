//! The webhook delivery engine: real HTTP POSTs to consumers.
//!
//! One dispatcher task receives every committed change ([`Backend::subscribe`]) and
//! every redelivery request, asks the model which hooks an event matches, and hands
//! the work to one worker task per hook. A worker sends one request at a time, so each
//! hook receives its deliveries in event order while a slow consumer holds up no other
//! hook. In batched mode a worker takes up to [`MAX_BATCH`] queued events per request.
//!
//! The tasks hold only a weak reference to the backend: they end when the site is
//! dropped. The client is `reqwest` without TLS (the emulator only reaches consumers on
//! this machine over http; an https consumer gets a failed delivery).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Weak};
use std::time::Instant;

use tokio::sync::{broadcast, mpsc};

use crate::model::webhooks::{Job, Outcome, Prepared, MAX_BATCH};
use crate::model::Backend;

/// Starts the engine for a site whose public base URL is `site_url` (sent as
/// `x-sg-webhook-site-url`). Must be called from within a Tokio runtime.
pub fn spawn(backend: &Arc<Backend>, site_url: String) -> tokio::task::JoinHandle<()> {
    let events = backend.subscribe();
    let jobs = backend.webhooks().take_job_receiver();
    let weak = Arc::downgrade(backend);
    tokio::spawn(dispatch(weak, events, jobs, site_url))
}

async fn dispatch(
    weak: Weak<Backend>,
    mut events: broadcast::Receiver<crate::model::ChangeEvent>,
    jobs: Option<mpsc::UnboundedReceiver<(String, Job)>>,
    site_url: String,
) {
    let Some(mut jobs) = jobs else {
        // Another engine already serves this backend.
        return;
    };
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("shotgrid-emulator: webhook client unavailable: {e}");
            return;
        }
    };
    let mut workers: HashMap<String, mpsc::UnboundedSender<Job>> = HashMap::new();
    loop {
        let (hook_ids, job) = tokio::select! {
            ev = events.recv() => match ev {
                Ok(ev) => {
                    let Some(backend) = weak.upgrade() else { return };
                    let ids = backend.webhooks().matching(&ev);
                    (ids, Job::Event(ev))
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    eprintln!("shotgrid-emulator: webhook engine skipped {n} events (lagging)");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            job = jobs.recv() => match job {
                Some((hook_id, job)) => (vec![hook_id], job),
                None => return,
            },
        };
        for hook_id in hook_ids {
            let tx = workers.entry(hook_id.clone()).or_insert_with(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(worker(
                    weak.clone(),
                    hook_id.clone(),
                    rx,
                    client.clone(),
                    site_url.clone(),
                ));
                tx
            });
            if tx.send(job.clone()).is_err() {
                // The worker ended (its hook was deleted); start afresh next time.
                workers.remove(&hook_id);
            }
        }
    }
}

async fn worker(
    weak: Weak<Backend>,
    hook_id: String,
    mut rx: mpsc::UnboundedReceiver<Job>,
    client: reqwest::Client,
    site_url: String,
) {
    let mut backlog: VecDeque<Job> = VecDeque::new();
    loop {
        let first = match backlog.pop_front() {
            Some(j) => j,
            None => match rx.recv().await {
                Some(j) => j,
                None => return,
            },
        };
        let Some(backend) = weak.upgrade() else {
            return;
        };
        let prepared = match first {
            Job::Event(ev) => {
                let mut batch = vec![ev];
                let batched = backend
                    .webhooks()
                    .get(&hook_id)
                    .map(|h| h.batch_deliveries)
                    .unwrap_or(false);
                if batched {
                    while batch.len() < MAX_BATCH {
                        match backlog.pop_front().map(Ok).unwrap_or_else(|| rx.try_recv()) {
                            Ok(Job::Event(e)) => batch.push(e),
                            Ok(other) => {
                                backlog.push_front(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                }
                backend
                    .webhooks()
                    .prepare_events(&hook_id, &batch, &site_url)
            }
            Job::Redeliver(id) => backend.webhooks().prepare_redelivery(&id, &site_url),
        };
        if prepared.is_some() {
            backend.persist_webhooks();
        }
        let Some(prepared) = prepared else {
            if backend.webhooks().get(&hook_id).is_err() {
                // Hook deleted: this worker is done.
                return;
            }
            continue;
        };
        // Never hold the backend across the network call.
        drop(backend);
        let outcome = send(&client, &prepared).await;
        let Some(backend) = weak.upgrade() else {
            return;
        };
        backend.webhooks().record_outcome(&prepared, &outcome);
        backend.persist_webhooks();
    }
}

async fn send(client: &reqwest::Client, p: &Prepared) -> Outcome {
    let started = Instant::now();
    let mut req = client.post(&p.url).timeout(p.timeout).body(p.body.clone());
    for (k, v) in &p.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let result = async {
        let res = req.send().await?;
        let status = res.status().as_u16();
        let headers: Vec<(String, String)> = res
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = res.text().await.unwrap_or_default();
        Ok::<_, reqwest::Error>((status, headers, body))
    }
    .await;
    let process_time = started.elapsed().as_millis() as u64;
    match result {
        Ok((status, headers, body)) => Outcome {
            response_code: Some(status),
            body,
            headers,
            process_time,
        },
        Err(e) => Outcome {
            response_code: None,
            body: if e.is_timeout() {
                "timed out waiting for the consumer".to_string()
            } else if e.is_connect() {
                "could not connect to the consumer".to_string()
            } else {
                "the request to the consumer failed".to_string()
            },
            headers: Vec::new(),
            process_time,
        },
    }
}
