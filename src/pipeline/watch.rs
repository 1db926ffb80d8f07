//! `chartscan watch`: the scanning-station daemon. It sees files arrive in the inbox (native
//! events, a startup scan and periodic rescans, or polling alone for network shares), waits
//! until each has stopped changing and is complete, claims it into `processing/`, runs it
//! through the same pipeline as `ingest`, and only after its record is committed removes it
//! (filed, duplicate) or moves it to `quarantine/` with a reason.
//!
//! Crash safety: whatever a previous run left in `processing/` is finished (already committed)
//! or processed again, one file at a time so that a poisonous file cannot take its neighbours
//! down with it; a file in flight during `max_crashes` crashes in a row is quarantined as having
//! crashed the worker. On SIGTERM or SIGINT no new file is claimed, files in flight get
//! `stop_timeout` to finish, and the rest are given back for the next run.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use tracing::{error, info, warn};

use super::{Event, FileReport, Halt, Job, Processed, Shared, Workers, process_guarded, write_all};
use crate::archive::{self, Archive, Outcome};
use crate::classify::Classifier;
use crate::config::Config;
use crate::decode;
use crate::intake::inbox::{self, Claim, Folders, Found, Reason};
use crate::intake::settle::{Look, SettleTracker};
use crate::model::{ErrorKind, Failure, Origin, Phi, Stage};

/// How the daemon runs.
#[derive(Debug, Clone)]
pub struct WatchSettings {
    pub folders: Folders,
    /// Poll every so often instead of listening for events (network shares).
    pub poll: Option<Duration>,
    /// Return once the inbox is drained and everything in flight is filed.
    pub until_idle: bool,
    pub settle: Duration,
    pub incomplete_grace: Duration,
    pub rescan: Duration,
    pub max_crashes: u32,
    pub stop_timeout: Duration,
}

impl WatchSettings {
    pub fn from_config(
        config: &Config,
        folders: Folders,
        poll: Option<Duration>,
        until_idle: bool,
    ) -> WatchSettings {
        let watch = &config.watch;
        WatchSettings {
            folders,
            poll,
            until_idle,
            settle: Duration::from_millis(watch.settle_ms),
            incomplete_grace: Duration::from_secs(watch.incomplete_grace_secs),
            rescan: Duration::from_secs(watch.rescan_secs),
            max_crashes: watch.max_crashes,
            stop_timeout: Duration::from_secs(watch.stop_timeout_secs),
        }
    }
}

/// What a daemon run did.
#[derive(Debug, Clone, Default)]
pub struct WatchSummary {
    pub filed: usize,
    pub duplicates: usize,
    pub quarantined: usize,
    /// Files given back to the inbox on stopping.
    pub released: usize,
}

/// How often the loop wakes to look at settling files.
const TICK: Duration = Duration::from_millis(100);

pub fn watch(
    config: &Config,
    archive: &Archive,
    workers: &Workers,
    classifier: &Classifier,
    settings: &WatchSettings,
    stop: &AtomicBool,
) -> anyhow::Result<WatchSummary> {
    let observer = |_: Event| {};
    let context = Shared::new(config, archive, workers, classifier, &observer)?;
    let folders = &settings.folders;
    let _lock = folders.lock()?;
    match archive.sweep_stale_writes() {
        Ok(0) => {}
        Ok(n) => info!(n, "removed temporary files of interrupted writes of originals"),
        Err(e) => warn!(error = %e, "could not sweep temporary files of interrupted writes"),
    }
    let max_in_flight = workers.engines.len() * 2;
    let (job_sender, job_receiver) = crossbeam_channel::unbounded::<(Job, Processed)>();
    let (done_sender, done_receiver) = crossbeam_channel::unbounded::<FileReport>();
    let mut summary = WatchSummary::default();
    let halt = Halt::default();

    std::thread::scope(|scope| -> anyhow::Result<()> {
        let writer =
            scope.spawn(|| write_all(archive, job_receiver, &observer, Some(done_sender), Some(&halt)));
        let result = workers.pool.in_place_scope(|pool| -> anyhow::Result<()> {
            let mut in_flight: HashMap<String, Claim> = HashMap::new();
            let dispatch = |claim: &Claim, refused: Option<Failure>, in_flight: &mut HashMap<String, Claim>| {
                in_flight.insert(claim.token.clone(), claim.clone());
                let job = Job {
                    read_from: claim.data.clone(),
                    origin: Origin {
                        name: crate::intake::source_name(std::path::Path::new(&claim.source)),
                        path: Phi::new(claim.source.clone()),
                        claim: Some(claim.token.clone()),
                    },
                };
                let sender = job_sender.clone();
                let context = &context;
                let claimed_look = claim.claimed_look;
                pool.spawn(move |_| {
                    let processed = match refused {
                        Some(failure) => Processed::Failed { identity: None, failure },
                        None => process_claimed(context, &job, claimed_look),
                    };
                    let _ = sender.send((job, processed));
                });
            };

            // What the last run left behind.
            let conn = archive.connect()?;
            for claim in inbox::leftovers(folders)? {
                match archive::claim_outcome(&conn, &claim.token)? {
                    Some(committed) => {
                        info!(claim = %claim.token, outcome = %committed.outcome, "finishing a file committed before a restart");
                        if committed.outcome == "failed" {
                            let reason = Reason {
                                stage: committed.stage.unwrap_or_default(),
                                error_kind: committed.error_kind.unwrap_or_default(),
                                message: committed.reason.unwrap_or_default(),
                                time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                                attempts: claim.crashes + 1,
                                sha256: None,
                            };
                            inbox::quarantine(folders, &claim.data, &claim.source, &reason)?;
                            summary.quarantined += 1;
                        }
                        inbox::finish(folders, &claim)?;
                    }
                    None if claim.crashes >= settings.max_crashes => {
                        warn!(claim = %claim.token, crashes = claim.crashes, "quarantining a file that crashed the worker");
                        let failure = Failure::new(
                            Stage::Worker,
                            ErrorKind::Crashed,
                            format!("crashed the worker ({} times in a row)", claim.crashes),
                        );
                        dispatch(&claim, Some(failure), &mut in_flight);
                    }
                    None => {
                        // One at a time, so a file that crashes the worker does not take the
                        // files beside it down with it (and into quarantine).
                        info!(claim = %claim.token, crashes = claim.crashes, "processing a file again after a restart");
                        dispatch(&claim, None, &mut in_flight);
                        while in_flight.contains_key(&claim.token) {
                            let report = done_receiver.recv().context("the writer stopped")?;
                            settle_report(folders, &mut in_flight, report, &mut summary);
                        }
                    }
                }
            }

            let (event_sender, event_receiver) = crossbeam_channel::unbounded::<PathBuf>();
            let _watcher = match settings.poll {
                Some(_) => None,
                None => Some(native_watcher(&folders.inbox, event_sender.clone())?),
            };
            let mut tracker = SettleTracker::new(settings.settle);
            let mut pending: BTreeSet<PathBuf> = BTreeSet::new();
            let rescan_every = settings.poll.unwrap_or(settings.rescan);
            let mut next_scan = Instant::now();
            loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                for report in done_receiver.try_iter() {
                    settle_report(folders, &mut in_flight, report, &mut summary);
                }
                // The sender is kept alive here, so this waits a tick when no event comes.
                if let Ok(path) = event_receiver.recv_timeout(TICK) {
                    for path in std::iter::once(path).chain(event_receiver.try_iter()) {
                        if !inbox::is_watched(&folders.inbox, &path) {
                            continue;
                        }
                        match std::fs::symlink_metadata(&path) {
                            Ok(meta) if meta.is_file() => {
                                pending.insert(path);
                            }
                            // A new folder (its first files may be written before the watch on
                            // it is in place), a link or a pipe: a scan finds what is in or
                            // refuses it.
                            Ok(_) => next_scan = Instant::now(),
                            Err(_) => {
                                tracker.forget(&path);
                            }
                        }
                    }
                }
                let now = Instant::now();
                let mut scanned_empty = false;
                if now >= next_scan {
                    let found = inbox::scan(&folders.inbox);
                    scanned_empty = found.is_empty();
                    for entry in found {
                        match entry {
                            Found::File(path) => {
                                pending.insert(path);
                            }
                            Found::Refused(path, reason) if in_flight.len() < max_in_flight => {
                                if let Some(claim) = inbox::claim(folders, &path)? {
                                    let failure = Failure::new(Stage::Read, ErrorKind::Unsupported, reason);
                                    dispatch(&claim, Some(failure), &mut in_flight);
                                }
                            }
                            Found::Refused(..) => {}
                        }
                    }
                    next_scan = now + rescan_every;
                }
                // Look at every file that moved or is still settling.
                let mut still = BTreeSet::new();
                for path in std::mem::take(&mut pending) {
                    let Some(look) = inbox::look(&path) else {
                        // Gone (deleted while settling, or claimed), or not a regular file: a
                        // scan will find and refuse the latter.
                        tracker.forget(&path);
                        continue;
                    };
                    if !tracker.settled(&path, look, now) || in_flight.len() >= max_in_flight {
                        still.insert(path);
                        continue;
                    }
                    let complete = std::fs::read(&path).map(|bytes| decode::completeness(&bytes));
                    let ready = match complete {
                        Ok(Ok(())) => true,
                        // Unreadable: claim it, and reading will say why.
                        Err(_) => true,
                        Ok(Err(_)) => tracker.incomplete_for(&path, now) >= settings.incomplete_grace,
                    };
                    if !ready {
                        still.insert(path);
                        continue;
                    }
                    tracker.forget(&path);
                    if let Some(claim) = inbox::claim(folders, &path)? {
                        info!(claim = %claim.token, "claimed");
                        dispatch(&claim, None, &mut in_flight);
                    }
                }
                pending = still;
                if settings.until_idle && pending.is_empty() && in_flight.is_empty() {
                    if scanned_empty {
                        break;
                    }
                    next_scan = Instant::now();
                }
            }

            // Stopping (or idle): let files in flight finish, for a while.
            let deadline = Instant::now() + settings.stop_timeout;
            while !in_flight.is_empty() && Instant::now() < deadline {
                if let Ok(report) = done_receiver.recv_timeout(TICK) {
                    settle_report(folders, &mut in_flight, report, &mut summary);
                }
            }
            if !in_flight.is_empty() {
                // Their work cannot be interrupted safely; the process ends with it. First the
                // writer stops committing, so what is committed is known; files committed in the
                // meantime are finished, the rest given back (not counted as a crash).
                halt.requested.store(true, Ordering::SeqCst);
                while !halt.done.load(Ordering::SeqCst) {
                    std::thread::sleep(TICK / 10);
                }
                for report in done_receiver.try_iter() {
                    settle_report(folders, &mut in_flight, report, &mut summary);
                }
                for claim in in_flight.values() {
                    if archive::claim_outcome(&conn, &claim.token)?.is_some() {
                        // Committed just now: the next run finishes it.
                        continue;
                    }
                    warn!(claim = %claim.token, "giving back a file still in flight at stop");
                    inbox::release(folders, claim)?;
                    summary.released += 1;
                }
                info!(released = summary.released, "stopped with work in flight");
                std::process::exit(0);
            }
            drop(event_sender);
            Ok(())
        });
        drop(job_sender);
        let written = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        result?;
        written.map(|_| ())
    })?;
    Ok(summary)
}

/// Reads and processes a claimed file, refusing it if it changed after the claim (its writer
/// was not done after all).
fn process_claimed(context: &Shared<'_>, job: &Job, claimed: Option<Look>) -> Processed {
    let before = claimed.or_else(|| inbox::look(&job.read_from));
    let processed = process_guarded(context, job);
    if inbox::look(&job.read_from) != before {
        return Processed::Failed {
            identity: None,
            failure: Failure::new(
                Stage::Read,
                ErrorKind::Changed,
                "the file changed after it was claimed (was it still being written?)",
            ),
        };
    }
    processed
}

/// After a file's record is committed: filed and duplicate files leave `processing/`, failed
/// ones go to quarantine with their reason. A file whose record could not be written stays.
fn settle_report(
    folders: &Folders,
    in_flight: &mut HashMap<String, Claim>,
    report: FileReport,
    summary: &mut WatchSummary,
) {
    let Some(token) = report.origin.claim.as_deref() else {
        return;
    };
    let Some(claim) = in_flight.remove(token) else {
        return;
    };
    if !report.committed {
        error!(claim = %claim.token, "the archive could not record this file; giving it back to the inbox");
        if let Err(e) = inbox::release(folders, &claim) {
            error!(claim = %claim.token, error = %e, "could not give a file back; it stays in processing/");
        }
        return;
    }
    let result = match &report.outcome {
        Outcome::Filed { .. } => {
            summary.filed += 1;
            inbox::finish(folders, &claim)
        }
        Outcome::Duplicate { .. } => {
            summary.duplicates += 1;
            inbox::finish(folders, &claim)
        }
        Outcome::Failed(failure) => {
            summary.quarantined += 1;
            let reason = Reason::of(failure, claim.crashes + 1, report.sha256.as_deref());
            inbox::quarantine(folders, &claim.data, &claim.source, &reason)
                .and_then(|_| inbox::finish(folders, &claim))
        }
    };
    if let Err(e) = result {
        error!(claim = %claim.token, error = %e, "cleaning up after a committed file failed; it is retried on restart");
    }
}

/// Native filesystem events for the inbox and its subfolders, as paths to look at.
fn native_watcher(
    inbox: &std::path::Path,
    sender: crossbeam_channel::Sender<PathBuf>,
) -> anyhow::Result<notify::RecommendedWatcher> {
    use notify::Watcher;
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            for path in event.paths {
                let _ = sender.send(path);
            }
        }
    })
    .context("starting the inbox watcher")?;
    watcher
        .watch(inbox, notify::RecursiveMode::Recursive)
        .with_context(|| format!("watching {}", inbox.display()))?;
    Ok(watcher)
}
