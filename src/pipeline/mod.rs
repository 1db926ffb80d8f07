//! The only module that knows the order of the stages and how they run in parallel.
//!
//! ```text
//! path ─read─▶ Intake ─(already archived?)─▶ decode::open ─┬─ page 1: decode ─ ocr ─┐
//!                                                          ├─ page 2: decode ─ ocr ─┼─▶ documents ─▶ writer
//!                                                          └─ page n: ...          ─┘
//! ```
//!
//! Files and their pages run on one rayon pool of `jobs` threads; each thread owns one OCR
//! engine, created once before the first file and reused. Pages are decoded inside their own
//! task, so at most a handful of page bitmaps are in memory at a time. One writer thread owns
//! the archive connection and files results in the order they complete. A failure, even a panic,
//! in one file is recorded against that file and the run goes on.
//!
//! Two ways in share all of it: [`ingest`] (a batch of paths) and [`watch`] (the daemon on the
//! inbox, in `watch.rs`). `documents.rs` is the text half, shared with re-indexing.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use rayon::prelude::*;
use tracing::{info, warn};

mod documents;
mod reindex;
mod watch;

pub use documents::{PageInput, TextStages, Understood, understand};
pub use reindex::{
    BATCH as REINDEX_BATCH, Change as ReindexChange, Options as ReindexOptions, Report as ReindexReport,
    reindex,
};
pub use watch::{WatchSettings, WatchSummary, watch};

use crate::archive::{self, Archive, IndexLookup, KnownLookup, NewFile, Outcome};
use crate::classify::{Classifier, Model, Settings};
use crate::config::Config;
use crate::cover::{self, CoverSheet, Scan};
use crate::decode::{self, Limits};
use crate::identify;
use crate::intake;
use crate::model::{ErrorKind, Failure, Origin, PageContent, PageQuality, PageText, Phi, Stage, TextSource};
use crate::ocr::{self, OcrEngine};
use crate::preprocess;

/// Progress as it happens, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// A file was opened and holds this many pages.
    FileOpened { n_pages: usize },
    /// One more page has its text.
    PageDone,
    /// A file reached its final state.
    FileDone,
}

/// What happened to one input file, once its record is committed.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub origin: Origin,
    pub sha256: Option<String>,
    pub n_pages: usize,
    pub outcome: Outcome,
    /// The outcome's record is in the archive. When it is not (the database could not be
    /// written at all), the file must stay where it is.
    pub committed: bool,
}

/// One file to process: where to read it, and where it came from.
#[derive(Debug, Clone)]
pub struct Job {
    pub read_from: PathBuf,
    pub origin: Origin,
}

impl Job {
    /// A file named directly (by `ingest`): read where it is.
    pub fn at(path: &Path) -> Job {
        Job {
            read_from: path.to_path_buf(),
            origin: Origin {
                name: intake::source_name(path),
                path: Phi::new(path.to_string_lossy().into_owned()),
                claim: None,
            },
        }
    }
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub files_filed: usize,
    pub documents_filed: usize,
    pub duplicates: usize,
    pub failed: usize,
    pub pages: usize,
    pub elapsed: Duration,
    pub reports: Vec<FileReport>,
}

impl Summary {
    fn add(&mut self, report: FileReport) {
        match &report.outcome {
            Outcome::Filed { document_ids, .. } => {
                self.files_filed += 1;
                self.documents_filed += document_ids.len();
                self.pages += report.n_pages;
            }
            Outcome::Duplicate { .. } => self.duplicates += 1,
            Outcome::Failed(_) => self.failed += 1,
        }
        self.reports.push(report);
    }

    pub fn failures(&self) -> impl Iterator<Item = (&FileReport, &Failure)> {
        self.reports.iter().filter_map(|r| match &r.outcome {
            Outcome::Failed(failure) => Some((r, failure)),
            _ => None,
        })
    }
}

/// The worker pool and the OCR engine each of its threads owns.
pub struct Workers {
    pool: rayon::ThreadPool,
    engines: Vec<Mutex<Box<dyn OcrEngine>>>,
}

impl Workers {
    /// Starts `jobs` threads and creates one engine on each, failing if any engine cannot start
    /// (missing language data fails here, before any file is touched).
    pub fn start(config: &Config, jobs: usize) -> anyhow::Result<Workers> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .thread_name(|i| format!("chartscan-worker-{i}"))
            .build()
            .context("starting worker threads")?;
        let engines = pool
            .broadcast(|_| ocr::engine(&config.ocr))
            .into_iter()
            .map(|engine| engine.map(Mutex::new))
            .collect::<Result<Vec<_>, Failure>>()
            .context("starting the OCR engine")?;
        Ok(Workers { pool, engines })
    }

    fn with_engine<R>(&self, f: impl FnOnce(&mut dyn OcrEngine) -> R) -> R {
        let idx = rayon::current_thread_index().expect("OCR runs on the worker pool");
        let mut engine = self.engines[idx].lock().unwrap_or_else(PoisonError::into_inner);
        f(engine.as_mut())
    }
}

/// The classifier for an archive: the configured taxonomy with the archive's own model, or the
/// shipped one until the archive has been trained.
pub fn load_classifier(config: &Config, archive: &Archive) -> anyhow::Result<Classifier> {
    let taxonomy = config.taxonomy()?;
    let model = match archive.current_model()? {
        Some(file) => Model::new(file).context("loading the archive's document-type model")?,
        None => Classifier::default_model().context("loading the shipped document-type model")?,
    };
    let classifier = Classifier::new(taxonomy, model, Settings::from_config(&config.classify));
    let orphans = classifier.orphan_labels();
    if !orphans.is_empty() {
        warn!(
            ?orphans,
            "the model knows types the taxonomy does not define; retrain after renaming types"
        );
    }
    Ok(classifier)
}

/// Everything a file's processing needs, shared by all workers.
struct Shared<'a> {
    config: &'a Config,
    classifier: &'a Classifier,
    rules: identify::Rules,
    /// Whether the archive holds a patient index to match documents against.
    index_loaded: bool,
    today: chrono::NaiveDate,
    limits: Limits,
    workers: &'a Workers,
    lookup: Mutex<rusqlite::Connection>,
    observer: &'a (dyn Fn(Event) + Sync),
}

/// The result of processing one file, for the writer.
enum Processed {
    Ready(Box<NewFile>),
    Duplicate {
        file_id: i64,
        sha256: String,
        size: u64,
    },
    Failed {
        identity: Option<(String, u64)>,
        failure: Failure,
    },
}

impl<'a> Shared<'a> {
    fn new(
        config: &'a Config,
        archive: &Archive,
        workers: &'a Workers,
        classifier: &'a Classifier,
        observer: &'a (dyn Fn(Event) + Sync),
    ) -> anyhow::Result<Shared<'a>> {
        let lookup = archive.connect()?;
        Ok(Shared {
            config,
            classifier,
            rules: identify::Rules::from_config(&config.identify)?,
            index_loaded: archive::patient_count(&lookup)? > 0,
            today: chrono::Local::now().date_naive(),
            limits: Limits::from_config(config),
            workers,
            lookup: Mutex::new(lookup),
            observer,
        })
    }
}

/// Ingests `files` into `archive`: every file ends filed, recorded as a duplicate, or recorded
/// as failed with a reason.
pub fn ingest(
    config: &Config,
    archive: &Archive,
    workers: &Workers,
    classifier: &Classifier,
    files: &[PathBuf],
    observer: &(dyn Fn(Event) + Sync),
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let context = Shared::new(config, archive, workers, classifier, observer)?;
    let (sender, receiver) = crossbeam_channel::bounded::<(Job, Processed)>(workers.engines.len() * 2);
    let mut summary = std::thread::scope(|scope| -> anyhow::Result<Summary> {
        let writer = scope.spawn(|| write_all(archive, receiver, observer, None, None));
        workers.pool.scope_fifo(|pool_scope| {
            for path in files {
                let sender = sender.clone();
                let context = &context;
                pool_scope.spawn_fifo(move |_| {
                    let job = Job::at(path);
                    let processed = process_guarded(context, &job);
                    // The writer only stops early if the archive cannot be opened; that error
                    // is reported when it is joined.
                    let _ = sender.send((job, processed));
                });
            }
        });
        drop(sender);
        writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Runs [`process`], turning a panic anywhere inside into a failure of this file. The panic's
/// message is not kept: it may quote page text (the panic hook in `main` prints only where).
fn process_guarded(context: &Shared<'_>, job: &Job) -> Processed {
    std::panic::catch_unwind(AssertUnwindSafe(|| process(context, job))).unwrap_or_else(|_| {
        Processed::Failed {
            identity: None,
            failure: Failure::new(
                Stage::Decode,
                ErrorKind::Corrupt,
                "internal error while processing this file (a bug in chartscan; the file was not filed)",
            ),
        }
    })
}

fn process(context: &Shared<'_>, job: &Job) -> Processed {
    let intake = match intake::read(&job.read_from, context.config.ingest.max_file_bytes) {
        Ok(intake) => intake,
        Err(failure) => {
            return Processed::Failed {
                identity: None,
                failure,
            };
        }
    };
    let identity = Some((intake.sha256.clone(), intake.size));
    let known = archive::is_archived(
        &context.lookup.lock().unwrap_or_else(PoisonError::into_inner),
        &intake.sha256,
    );
    if let Ok(Some(file_id)) = known {
        return Processed::Duplicate {
            file_id,
            sha256: intake.sha256,
            size: intake.size,
        };
    }
    let opened = match decode::open(Arc::clone(&intake.bytes), &context.limits) {
        Ok(opened) => opened,
        Err(failure) => return Processed::Failed { identity, failure },
    };
    let n_pages = opened.n_pages();
    (context.observer)(Event::FileOpened { n_pages });
    let pages = read_pages(context.config, context.workers, &opened, &|| {
        (context.observer)(Event::PageDone)
    });
    let pages = match pages {
        Ok(pages) => pages,
        Err(failure) => return Processed::Failed { identity, failure },
    };
    let inputs: Vec<PageInput<'_>> = pages.iter().map(ReadPage::input).collect();
    let understood = {
        let conn = context.lookup.lock().unwrap_or_else(PoisonError::into_inner);
        let index = IndexLookup { conn: &conn };
        let known = KnownLookup { conn: &conn };
        let stages = TextStages {
            classifier: context.classifier,
            rules: &context.rules,
            index: context
                .index_loaded
                .then_some(&index as &dyn identify::PatientIndex),
            known: (!context.index_loaded).then_some(&known as &dyn identify::KnownPatients),
            today: context.today,
        };
        understand(&stages, &inputs)
    };
    if understood.documents.is_empty() {
        // Only cover sheets: filed, it would be a file no search, export or review shows.
        return Processed::Failed {
            identity,
            failure: Failure::new(
                Stage::Decode,
                ErrorKind::Empty,
                "the file holds only cover sheets, no pages to file (scan the sheet with its document)",
            ),
        };
    }
    // Cover sheets are not content: only the pages of documents are filed.
    let content = ReadPage::content(pages);
    Processed::Ready(Box::new(NewFile {
        origin: job.origin.clone(),
        sha256: intake.sha256,
        size: intake.size,
        bytes: intake.bytes,
        media_type: opened.media_type,
        pages: content,
        documents: understood.documents,
        covers: understood.covers,
    }))
}

/// A page read: its text, and whether it is a cover sheet.
struct ReadPage {
    text: PageText,
    cover: Option<CoverSheet>,
    unreadable_barcode: bool,
}

impl ReadPage {
    /// The pages of a file to file as content: all but its cover sheets.
    fn content(pages: Vec<ReadPage>) -> Vec<PageText> {
        pages
            .into_iter()
            .filter(|p| p.cover.is_none())
            .map(|p| p.text)
            .collect()
    }

    /// The page as the text stages take it.
    fn input(&self) -> PageInput<'_> {
        PageInput {
            page_no: self.text.page_no,
            text: &self.text.text,
            cover: self.cover.clone(),
            unreadable_barcode: self.unreadable_barcode,
            words: &self.text.quality.words,
        }
    }
}

/// Reads every page of an opened file, in parallel on the worker pool (the caller runs on it);
/// `page_done` is told after each page.
fn read_pages(
    config: &Config,
    workers: &Workers,
    opened: &decode::Opened,
    page_done: &(dyn Fn() + Sync),
) -> Result<Vec<ReadPage>, Failure> {
    (0..opened.n_pages())
        .into_par_iter()
        .map(|page_idx| {
            let page = read_page(config, workers, opened, page_idx);
            page_done();
            page
        })
        .collect()
}

/// A page with fewer words than this is looked at closely for a cover-sheet barcode.
const FEW_WORDS: usize = 40;

/// Decodes one page and reads its text, noticing cover sheets: a page with few words after OCR
/// (a cover sheet has a barcode and a few lines) is searched thoroughly for a barcode (~150 ms);
/// pages of text pay nothing.
fn read_page(
    config: &Config,
    workers: &Workers,
    opened: &decode::Opened,
    page_idx: usize,
) -> Result<ReadPage, Failure> {
    let page_no = page_idx as u32 + 1;
    match opened.page(page_idx)? {
        PageContent::TextLayer(text) => Ok(ReadPage {
            cover: cover::in_text(&text),
            text: PageText::text_layer(page_no, text),
            unreadable_barcode: false,
        }),
        PageContent::Bitmap(bitmap) => {
            let settings = &config.preprocess;
            let started = Instant::now();
            let prepared = workers.with_engine(|engine| {
                preprocess::prepare(bitmap.image, bitmap.dpi, settings, &mut |image, dpi| {
                    engine.orientation(image, dpi)
                })
            });
            let preprocess_ms = started.elapsed().as_secs_f32() * 1000.0;
            let (width, height) = prepared.image.dimensions();
            let mut quality = PageQuality {
                rotation: prepared.rotation,
                skew: settings.deskew.then_some(prepared.skew),
                dpi_estimated: prepared.dpi_estimated,
                normalized: prepared.normalized,
                blank: prepared.blank,
                preprocess_ms: Some(preprocess_ms),
                ..PageQuality::default()
            };
            let page_text = |text: String, confidence: Option<f32>, quality: PageQuality| PageText {
                page_no,
                text,
                source: TextSource::Ocr,
                ocr_confidence: confidence,
                dpi: Some(prepared.dpi),
                width,
                height,
                quality,
            };
            if prepared.blank {
                return Ok(ReadPage {
                    text: page_text(String::new(), None, quality),
                    cover: None,
                    unreadable_barcode: false,
                });
            }
            let started = Instant::now();
            let output = workers
                .with_engine(|engine| engine.recognize(&prepared.image, prepared.dpi))
                .map_err(|e| e.context(format!("page {page_no}")))?;
            quality.ocr_ms = Some(started.elapsed().as_secs_f32() * 1000.0);
            let text = ocr::mend_capital_i(&output.text);
            let (mut cover, mut unreadable_barcode) = (cover::in_text(&text), false);
            if cover.is_none() && text.split_whitespace().count() < FEW_WORDS {
                match cover::scan(&prepared.image, true) {
                    Scan::Cover(found) => cover = Some(found),
                    Scan::Unreadable => unreadable_barcode = true,
                    Scan::Nothing => {}
                }
            }
            let (low_share, needs_rescan) = judge(&output.words, output.mean_confidence, settings);
            quality.low_confidence_share = low_share;
            quality.needs_rescan = needs_rescan && cover.is_none();
            quality.words = output.words;
            doubt_streaked(&mut quality.words, &prepared.streaks);
            Ok(ReadPage {
                text: page_text(text, Some(output.mean_confidence), quality),
                cover,
                unreadable_barcode,
            })
        }
    }
}

/// A word a scanner streak crosses had letters cut or redrawn (an `8` read as a `3`, confidently):
/// it is stored below the confidence identification trusts, so that an identifier read from it
/// is faint (it yields to a clear reading elsewhere in the document, and alone goes to a person).
const STREAKED_WORD: f32 = crate::identify::FAINT_OCR_CONFIDENCE - 5.0;
const _: () = assert!(STREAKED_WORD < crate::identify::FAINT_OCR_CONFIDENCE);

fn doubt_streaked(words: &mut [crate::model::Word], streaks: &[preprocess::Streak]) {
    for word in words {
        if streaks.iter().any(|s| s.crosses(word.bbox)) {
            word.confidence = word.confidence.min(STREAKED_WORD);
        }
    }
}

/// A page's share of doubtful words, and whether it read too poorly to trust. A page with
/// almost no words (a form, a sticker) is not judged by them.
fn judge(
    words: &[crate::model::Word],
    mean_confidence: f32,
    settings: &crate::config::PreprocessConfig,
) -> (Option<f32>, bool) {
    if words.is_empty() {
        return (None, false);
    }
    let low = words
        .iter()
        .filter(|w| w.confidence < crate::ocr::LOW_WORD_CONFIDENCE)
        .count();
    let share = low as f32 / words.len() as f32;
    let judged = words.len() >= MIN_WORDS_TO_JUDGE;
    let poor = mean_confidence < settings.rescan_below_confidence || share > settings.rescan_above_low_share;
    (Some(share), judged && poor)
}

/// Fewer words than this say too little about a page's quality.
const MIN_WORDS_TO_JUDGE: usize = 8;

/// Asks the writer to stop committing (a daemon stopping with work in flight) and says when it
/// has.
#[derive(Debug, Default)]
pub struct Halt {
    pub requested: std::sync::atomic::AtomicBool,
    pub done: std::sync::atomic::AtomicBool,
}

/// The writer thread: files every result in one transaction each, builds the summary, and
/// passes each report on to `done` (the daemon, which cleans up after a commit) if given.
fn write_all(
    archive: &Archive,
    receiver: crossbeam_channel::Receiver<(Job, Processed)>,
    observer: &(dyn Fn(Event) + Sync),
    done: Option<crossbeam_channel::Sender<FileReport>>,
    halt: Option<&Halt>,
) -> anyhow::Result<Summary> {
    let mut conn = archive.connect()?;
    let mut summary = Summary::default();
    loop {
        if let Some(halt) = halt
            && halt.requested.load(std::sync::atomic::Ordering::SeqCst)
        {
            halt.done.store(true, std::sync::atomic::Ordering::SeqCst);
            break;
        }
        let (job, processed) = match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok(message) => message,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        };
        let report = write_one(archive, &mut conn, job.origin, processed);
        observer(Event::FileDone);
        if let Some(done) = &done {
            let _ = done.send(report.clone());
        }
        summary.add(report);
    }
    Ok(summary)
}

fn write_one(
    archive: &Archive,
    conn: &mut rusqlite::Connection,
    origin: Origin,
    processed: Processed,
) -> FileReport {
    let now = chrono::Utc::now();
    let (sha256, n_pages, result) = match processed {
        Processed::Ready(new) => {
            let n_pages = new.pages.len();
            let result = archive::file(conn, archive, &new, now)
                .map_err(|e| (Some((new.sha256.clone(), new.size)), e));
            (Some(new.sha256.clone()), n_pages, result)
        }
        Processed::Duplicate {
            file_id,
            sha256,
            size,
        } => {
            let result = archive::record_duplicate(conn, &origin, &sha256, size, file_id, now)
                .map(|()| Outcome::Duplicate { file_id })
                .map_err(|e| (Some((sha256.clone(), size)), e));
            (Some(sha256), 0, result)
        }
        Processed::Failed { identity, failure } => {
            let sha256 = identity.as_ref().map(|(sha, _)| sha.clone());
            let identity_ref = identity.as_ref().map(|(sha, size)| (sha.as_str(), *size));
            let result = archive::record_failure(conn, &origin, identity_ref, &failure, now)
                .map(|()| Outcome::Failed(failure))
                .map_err(|e| (identity.clone(), e));
            (sha256, 0, result)
        }
    };
    let (outcome, committed) = match result {
        Ok(outcome) => (outcome, true),
        Err((identity, error)) => {
            let failure = Failure::new(Stage::Archive, ErrorKind::Unreadable, format!("{error:#}"));
            let identity_ref = identity.as_ref().map(|(sha, size)| (sha.as_str(), *size));
            let recorded = archive::record_failure(conn, &origin, identity_ref, &failure, now);
            if let Err(again) = &recorded {
                warn!(error = %again, "could not record an archive failure");
            }
            (Outcome::Failed(failure), recorded.is_ok())
        }
    };
    log_outcome(sha256.as_deref(), &outcome);
    FileReport {
        origin,
        sha256,
        n_pages,
        outcome,
        committed,
    }
}

fn log_outcome(sha256: Option<&str>, outcome: &Outcome) {
    let sha = sha256.map_or("-", |s| &s[..12.min(s.len())]);
    match outcome {
        Outcome::Filed {
            file_id,
            document_ids,
        } => {
            info!(sha, file_id, ?document_ids, "file filed");
        }
        Outcome::Duplicate { file_id } => info!(sha, file_id, "duplicate recorded"),
        Outcome::Failed(failure) => {
            warn!(sha, stage = failure.stage.as_str(), kind = failure.kind.as_str(), reason = %failure.message, "file failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Word;

    #[test]
    fn words_a_scanner_streak_crosses_are_doubted() {
        let word = |text: &str, left: u32| Word {
            text: text.into(),
            confidence: 93.0,
            bbox: [left, 100, left + 200, 130],
        };
        let mut words = vec![word("E8013374", 1000), word("F", 1300), word("30.5", 1180)];
        let streak = preprocess::Streak {
            across: false,
            at: 1100.0,
            slope: 0.0,
        };
        doubt_streaked(&mut words, &[streak]);
        let confidences: Vec<f32> = words.iter().map(|w| w.confidence).collect();
        assert_eq!(confidences, [STREAKED_WORD, 93.0, 93.0]);
    }
}
