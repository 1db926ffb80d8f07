//! The command line: subcommands, their options, and how results are printed (for people, or
//! as JSON with `--json`). Work is delegated to `pipeline` and `archive`; nothing here knows
//! SQL or the order of stages.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::archive::{self, Archive, SearchQuery, audit};
use crate::classify;
use crate::config::Config;
use crate::cover;
use crate::identify;
use crate::intake::inbox::{self, Folders};
use crate::pipeline::{self, Event, Workers};

#[derive(Debug, Parser)]
#[command(
    name = "chartscan",
    version,
    about = "Scanned medical records into a searchable archive"
)]
pub struct Cli {
    /// Configuration file [default: $CHARTSCAN_CONFIG, else ./config/chartscan.toml, else built in]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Archive directory [default: archive.dir from the configuration]
    #[arg(long, global = true, env = "CHARTSCAN_ARCHIVE", value_name = "DIR")]
    pub archive: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// OCR and file scanned charts (files and folders, recursively)
    Ingest {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Worker threads, each with its own OCR engine [default: ingest.jobs, 0 = all cores]
        #[arg(long, short = 'j')]
        jobs: Option<usize>,
    },
    /// Watch the inbox: file every scan dropped there (the scanning-station daemon)
    Watch {
        /// The folder scanners drop files into [default: watch.inbox from the configuration]
        #[arg(long, value_name = "DIR")]
        inbox: Option<PathBuf>,
        /// Look for files every SECONDS instead of listening for events (network shares)
        #[arg(long, value_name = "SECONDS")]
        poll: Option<f64>,
        /// Return once the inbox is drained and everything is filed
        #[arg(long)]
        until_idle: bool,
        /// Worker threads, each with its own OCR engine [default: ingest.jobs, 0 = all cores]
        #[arg(long, short = 'j')]
        jobs: Option<usize>,
    },
    /// The station at a glance: files waiting, in flight, quarantined, filed today, last error
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Full-text search over every page, best matches first
    Search {
        #[arg(required = true, value_name = "QUERY")]
        query: Vec<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Only documents of this type (a type id of the taxonomy, e.g. discharge_summary)
        #[arg(long = "type", value_name = "TYPE")]
        doc_type: Option<String>,
        /// Only documents of the patient with this MRN
        #[arg(long, value_name = "MRN")]
        mrn: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A document's metadata and text
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Every document, one JSON object a line
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Write here instead of standard output
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Files that could not be filed, and why
    Failures {
        #[arg(long)]
        json: bool,
    },
    /// The patient index: import or update it from the site's CSV
    Patients {
        #[command(subcommand)]
        action: PatientsAction,
    },
    /// Print a cover sheet: a barcode page that starts a new document in a batch scan
    CoverSheet {
        /// The MRN of the patient the document belongs to
        #[arg(long)]
        mrn: Option<String>,
        /// The document type (a type id of the taxonomy)
        #[arg(long = "type", value_name = "TYPE")]
        doc_type: Option<String>,
        #[arg(long, value_enum, default_value = "qr")]
        barcode: Barcode,
        /// Where to write the PDF
        #[arg(long, short = 'o', value_name = "FILE")]
        output: PathBuf,
    },
    /// Train the document-type model and make it the archive's model
    Train {
        /// JSON lines of labelled texts, {"text": ..., "doc_type": ...} (repeatable)
        #[arg(long = "from", value_name = "FILE")]
        from: Vec<PathBuf>,
        /// Learn from documents whose type an operator set or confirmed; alone, on top of the
        /// model in use
        #[arg(long)]
        from_archive: bool,
        /// Write the model to FILE instead of installing it in the archive
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Seed of the held-out split
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Correct a document: its type, its patient or where it splits (stored as a human decision,
    /// audited)
    Set {
        #[arg(value_name = "ID")]
        id: i64,
        /// The document type (a type id of the taxonomy)
        #[arg(long = "type", value_name = "TYPE")]
        doc_type: Option<String>,
        /// The MRN of the patient the document belongs to
        #[arg(long, value_name = "MRN")]
        patient: Option<String>,
        /// Split the document before this page (1-based within the document): the pages from
        /// there on become a new document
        #[arg(long, value_name = "PAGE")]
        split_at: Option<u32>,
        /// Merge the neighbouring document ID2 of the same file into this one
        #[arg(long, value_name = "ID2", conflicts_with = "split_at")]
        merge: Option<i64>,
    },
    /// Run splitting, classification and identification again over the stored page text
    /// (after the rules, the model or the patient index changed); values a person decided are
    /// kept. Resumes an interrupted run of the same selection.
    Reindex {
        /// Only files holding documents of this type
        #[arg(long = "where", value_name = "TYPE")]
        doc_type: Option<String>,
        /// Only files holding documents of the patient with this MRN
        #[arg(long, value_name = "MRN")]
        mrn: Option<String>,
        /// Only files ingested on or after this date (YYYY-MM-DD)
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Only the files holding these documents (comma-separated ids)
        #[arg(long, value_name = "ID,...", value_delimiter = ',')]
        ids: Vec<i64>,
        /// Read every page again from the stored originals (clean-up and OCR, as ingest does)
        /// before the text stages; slow, for when OCR or page clean-up changed
        #[arg(long)]
        ocr: bool,
        /// Show what would change; change nothing
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Destroy a record whose retention ran out: the whole file holding document ID (its
    /// documents, pages and stored original), audited. Without --yes, only says what would go
    Purge {
        #[arg(value_name = "ID")]
        id: i64,
        #[arg(long)]
        yes: bool,
    },
    /// What needs a person, oldest first, and why; `review accept ID` confirms a document
    Review {
        #[command(subcommand)]
        action: Option<ReviewAction>,
        #[arg(long)]
        json: bool,
    },
    /// Re-hash every stored original against its recorded SHA-256 and check the database;
    /// exit 1 when anything is wrong
    Verify,
    /// The audit trail: who accessed or changed which documents
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
}

impl Command {
    /// Whether the command may run OCR (and so must start with Tesseract single-threaded).
    pub fn runs_ocr(&self) -> bool {
        matches!(
            self,
            Command::Ingest { .. } | Command::Watch { .. } | Command::Reindex { ocr: true, .. }
        )
    }
}

#[derive(Debug, Subcommand)]
pub enum ReviewAction {
    /// Confirm the machine's values of a document (its type becomes training data) and take it
    /// off the queue
    Accept {
        #[arg(value_name = "ID")]
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// The rows, oldest first
    List {
        /// Only rows naming this document
        #[arg(long = "doc", value_name = "ID")]
        doc: Option<i64>,
        /// Only rows from this time on (e.g. 2026-11-24 or 2026-11-24T09:00)
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Walk the hash chain; exit 1 when a row was edited, inserted or removed
    Verify,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub enum PatientsAction {
    /// Import a CSV with columns mrn, last, first, dob (and optional sex, aliases); a re-import
    /// updates the patients it names
    Import {
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Barcode {
    Qr,
    Datamatrix,
    Code128,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load(cli.config.as_deref())?;
    let archive_dir = cli.archive.clone().unwrap_or_else(|| config.archive.dir.clone());
    match cli.command {
        Command::Ingest { paths, jobs } => ingest(&config, &archive_dir, &paths, jobs),
        Command::Watch {
            inbox,
            poll,
            until_idle,
            jobs,
        } => watch(&config, &archive_dir, inbox, poll, until_idle, jobs),
        Command::Status { json } => status(&config, &archive_dir, json),
        Command::Review { action: None, json } => {
            let mut conn = Archive::existing(&archive_dir)?.connect()?;
            let items = archive::review::queue(&conn)?;
            let ids: Vec<i64> = items.iter().map(|i| i.document_id).collect();
            audit::record(
                &mut conn,
                "review_list",
                &ids,
                serde_json::json!({"documents": ids.len()}),
            )?;
            if json {
                print_json(&items)?;
            } else if items.is_empty() {
                println!("nothing to review");
            } else {
                for item in &items {
                    println!(
                        "#{:<6} {}  {:<22} {}",
                        item.document_id,
                        item.created_at,
                        item.doc_type.as_deref().unwrap_or("-"),
                        item.reasons.join("; ")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Review {
            action: Some(ReviewAction::Accept { id }),
            ..
        } => {
            let mut conn = Archive::existing(&archive_dir)?.connect()?;
            let now = archive::timestamp_now();
            archive::review::accept(&mut conn, id, &now)?;
            println!("document {id} confirmed");
            Ok(ExitCode::SUCCESS)
        }
        Command::Set {
            id,
            doc_type,
            patient,
            split_at,
            merge,
        } => {
            if doc_type.is_none() && patient.is_none() && split_at.is_none() && merge.is_none() {
                anyhow::bail!("nothing to set: give --type, --patient, --split-at or --merge");
            }
            if let Some(doc_type) = &doc_type {
                check_type(&config, doc_type)?;
            }
            let mrn = patient.as_deref().map(identify::normalize_mrn);
            if mrn.as_deref() == Some("") {
                anyhow::bail!("the MRN is empty");
            }
            let mut conn = Archive::existing(&archive_dir)?.connect()?;
            let now = archive::timestamp_now();
            let mut changes = Vec::new();
            // A split or merge first: they are what a bad argument (a page outside the
            // document, a document elsewhere) can refuse, and then nothing has changed.
            if let Some(page) = split_at {
                changes.push(archive::correct::split_at(&mut conn, id, page, &now)?.0);
            }
            if let Some(other) = merge {
                changes.push(archive::correct::merge(&mut conn, id, other, &now)?);
            }
            if let Some(doc_type) = &doc_type {
                changes.push(archive::correct::set_type(&mut conn, id, doc_type, &now)?);
            }
            if let Some(mrn) = &mrn {
                changes.push(archive::correct::set_patient(&mut conn, id, mrn, &now)?);
            }

            for change in changes {
                let old = change.old.as_deref().unwrap_or("-");
                println!("document {id}: {} {old} -> {}", change.field, change.new);
                if let Some(flag) = change.flagged {
                    println!("  flagged for review: {flag}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Reindex {
            doc_type,
            mrn,
            since,
            ids,
            ocr,
            dry_run,
            json,
        } => {
            if let Some(doc_type) = &doc_type {
                check_type(&config, doc_type)?;
            }
            if let Some(since) = &since {
                chrono::NaiveDate::parse_from_str(since, "%Y-%m-%d")
                    .with_context(|| format!("--since {since:?}: give a date as YYYY-MM-DD"))?;
            }
            let mrn = mrn.as_deref().map(identify::normalize_mrn);
            if mrn.as_deref() == Some("") {
                anyhow::bail!("the MRN is empty");
            }
            let archive = Archive::existing(&archive_dir)?;
            let classifier = pipeline::load_classifier(&config, &archive)?;
            let options = pipeline::ReindexOptions {
                selection: archive::reindex::Selection {
                    doc_type,
                    mrn,
                    since,
                    ids,
                },
                dry_run,
                // Reading pages again is slow: commit (and so resume) every few files.
                batch: if ocr {
                    4 * config.jobs()
                } else {
                    pipeline::REINDEX_BATCH
                },
            };
            let workers = ocr.then(|| Workers::start(&config, config.jobs())).transpose()?;
            let bar = progress_bar(None, "files", !json);
            let report = pipeline::reindex(
                &config,
                &archive,
                &classifier,
                &options,
                workers.as_ref(),
                &|done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                },
            )?;
            bar.finish_and_clear();
            if json {
                print_json(&report)?;
            } else {
                if let Some(after) = report.resumed_after {
                    println!("resumed an interrupted re-index after file {after}");
                }
                for change in &report.changes {
                    println!("{}", change.what);
                }
                println!(
                    "{}{} files, {} documents: {} type changes, {} patient changes ({} newly matched in the patient index, {} filled in from the archive's other documents), {} files split again, {} values kept as a person decided them",
                    if report.dry_run {
                        "dry run, nothing changed: "
                    } else {
                        ""
                    },
                    report.files,
                    report.documents,
                    report.type_changes,
                    report.patient_changes,
                    report.newly_matched,
                    report.filled_from_archive,
                    report.resplit_files,
                    report.kept
                );
                if ocr {
                    println!(
                        "{} pages read again, {} read differently; {} files could not be read again (left as they were)",
                        report.pages_read, report.pages_changed, report.unreadable
                    );
                }
            }
            Ok(if report.unreadable > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Purge { id, yes } => {
            let archive = Archive::existing(&archive_dir)?;
            let mut conn = archive.connect()?;
            let ids = |p: &archive::purge::Purged| {
                p.document_ids
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if !yes {
                let plan = archive::purge::plan(&conn, id)?;
                println!(
                    "would purge file {} (sha256 {}): documents {}, {} pages and the stored original; nothing changed (add --yes)",
                    plan.file_id,
                    plan.sha256,
                    ids(&plan),
                    plan.pages
                );
                return Ok(ExitCode::SUCCESS);
            }
            let purged = archive::purge::purge(&archive, &mut conn, id, &archive::timestamp_now())?;
            println!(
                "purged file {} (sha256 {}): documents {}, {} pages and the stored original",
                purged.file_id,
                purged.sha256,
                ids(&purged),
                purged.pages
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify => {
            let archive = Archive::existing(&archive_dir)?;
            let conn = archive.connect()?;
            let report = archive::verify_integrity(&archive, &conn)?;
            for problem in &report.problems {
                println!("{problem}");
            }
            println!(
                "{} stored originals checked, database checked: {}",
                report.files_checked,
                if report.problems.is_empty() {
                    "all intact".to_string()
                } else {
                    format!("{} problems", report.problems.len())
                }
            );
            Ok(if report.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Audit {
            action: AuditAction::Verify,
        } => {
            let conn = Archive::existing(&archive_dir)?.connect()?;
            let problems = audit::verify(&conn)?;
            for problem in &problems {
                println!("{problem}");
            }
            let rows: i64 = conn.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))?;
            if problems.is_empty() {
                println!("audit trail intact: {rows} rows");
                Ok(ExitCode::SUCCESS)
            } else {
                println!("audit trail damaged: {} problems in {rows} rows", problems.len());
                Ok(ExitCode::from(1))
            }
        }
        Command::Audit {
            action: AuditAction::List { doc, since, json },
        } => {
            let conn = Archive::existing(&archive_dir)?.connect()?;
            let rows = audit::list(&conn, doc, since.as_deref())?;
            if json {
                print_json(&rows)?;
            } else {
                for row in &rows {
                    println!(
                        "{:<6} {}  {:<12} {:<8} docs {} {}",
                        row.id, row.at, row.os_user, row.action, row.document_ids, row.detail
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Search {
            query,
            limit,
            doc_type,
            mrn,
            json,
        } => {
            if let Some(doc_type) = &doc_type {
                check_type(&config, doc_type)?;
            }
            let mut conn = Archive::existing(&archive_dir)?.connect()?;
            let query = SearchQuery {
                text: query.join(" "),
                limit,
                doc_type,
                mrn: mrn.as_deref().map(identify::normalize_mrn),
            };
            let hits = archive::search(&conn, &query)?;
            let mut ids: Vec<i64> = hits.iter().map(|h| h.document_id).collect();
            ids.dedup();
            // The search text may be patient data: only its hash is kept.
            let detail =
                serde_json::json!({"query_sha256": audit::text_hash(&query.text), "hits": hits.len()});
            audit::record(&mut conn, "search", &ids, detail)?;
            if json {
                print_json(&hits)?;
            } else if hits.is_empty() {
                println!("no matches");
            } else {
                for hit in &hits {
                    println!(
                        "#{:<6} page {:<3} {:<22} {}",
                        hit.document_id,
                        hit.page,
                        hit.doc_type.as_deref().unwrap_or("-"),
                        hit.source
                    );
                    println!("        {}", hit.snippet.trim());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { id, json } => {
            let mut conn = Archive::existing(&archive_dir)?.connect()?;
            let Some(view) = archive::document(&conn, id)? else {
                anyhow::bail!("no document {id}");
            };
            audit::record(&mut conn, "show", &[id], serde_json::json!({}))?;
            if json {
                print_json(&view)?;
            } else {
                print_document(&view);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            format: ExportFormat::Jsonl,
            output,
        } => {
            let mut conn = Archive::existing(&archive_dir)?.connect()?;
            let sink: Box<dyn Write> = match &output {
                Some(path) => Box::new(
                    std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            let mut sink = std::io::BufWriter::new(sink);
            let mut ids = Vec::new();
            let n = archive::export(&conn, |record| {
                ids.push(record.id);
                serde_json::to_writer(&mut sink, &record)?;
                sink.write_all(b"\n")?;
                Ok(())
            })?;
            sink.flush()?;
            audit::record(
                &mut conn,
                "export",
                &ids,
                serde_json::json!({"documents": n, "format": "jsonl"}),
            )?;
            if output.is_some() {
                eprintln!("exported {n} documents");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Failures { json } => {
            let conn = Archive::existing(&archive_dir)?.connect()?;
            let rows = archive::failures(&conn)?;
            if json {
                print_json(&rows)?;
            } else if rows.is_empty() {
                println!("no failed files");
            } else {
                for row in &rows {
                    println!(
                        "{}  {}  {}",
                        row.at,
                        row.path,
                        row.reason.as_deref().unwrap_or("-")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Patients {
            action: PatientsAction::Import { file },
        } => {
            let mut conn = Archive::open(&archive_dir)?.connect()?;
            let csv = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
            let report = archive::import_csv(&mut conn, csv)?;
            println!(
                "patients: {} added, {} updated, {} unchanged, {} refused",
                report.added,
                report.updated,
                report.unchanged,
                report.rejected.len()
            );
            for (line, reason) in &report.rejected {
                println!("refused line {line}: {reason}");
            }
            Ok(if report.rejected.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::CoverSheet {
            mrn,
            doc_type,
            barcode,
            output,
        } => {
            let taxonomy = config.taxonomy()?;
            let type_name = match &doc_type {
                Some(t) => Some(
                    taxonomy
                        .get(t)
                        .with_context(|| format!("unknown type {t:?}"))?
                        .name
                        .clone(),
                ),
                None => None,
            };
            let sheet = cover::CoverSheet {
                mrn: mrn
                    .as_deref()
                    .map(identify::normalize_mrn)
                    .filter(|m| !m.is_empty()),
                doc_type,
            };
            let symbology = match barcode {
                Barcode::Qr => cover::Symbology::Qr,
                Barcode::Datamatrix => cover::Symbology::DataMatrix,
                Barcode::Code128 => cover::Symbology::Code128,
            };
            let pdf = cover::sheet_pdf(&sheet, symbology, type_name.as_deref())?;
            std::fs::write(&output, pdf).with_context(|| format!("writing {}", output.display()))?;
            println!("cover sheet {} written to {}", sheet.payload(), output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Train {
            from,
            from_archive,
            output,
            seed,
        } => train(
            &config,
            &archive_dir,
            &from,
            from_archive,
            output.as_deref(),
            seed,
        ),
    }
}

fn train(
    config: &Config,
    archive_dir: &std::path::Path,
    from: &[PathBuf],
    from_archive: bool,
    output: Option<&std::path::Path>,
    seed: u64,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !from.is_empty() || from_archive,
        "give --from FILE and/or --from-archive"
    );
    let started = std::time::Instant::now();
    let taxonomy = config.taxonomy()?;
    let mut examples = Vec::new();
    let mut sources = Vec::new();
    for path in from {
        let before = examples.len();
        read_examples(path, &mut examples)?;
        sources.push(format!(
            "{} ({} examples)",
            path.display(),
            examples.len() - before
        ));
    }
    let archive = if from_archive || output.is_none() {
        Some(Archive::open(archive_dir)?)
    } else {
        None
    };
    let mut base = None;
    if let (true, Some(archive)) = (from_archive, &archive) {
        let conn = archive.connect()?;
        let labelled = archive::operator_labelled(&conn)?;
        anyhow::ensure!(
            !labelled.is_empty() || !from.is_empty(),
            "no document in the archive has a type set or confirmed by an operator yet"
        );
        sources.push(format!(
            "archive {} ({} operator-labelled documents)",
            archive.dir().display(),
            labelled.len()
        ));
        // A person's `other` (no clinical record) is a verdict, not a kind to learn.
        examples.extend(
            labelled
                .into_iter()
                .filter(|(_, label)| !classify::is_verdict(label))
                .map(|(text, label)| classify::Example { text, label }),
        );
        if from.is_empty() {
            base = Some(match archive.current_model()? {
                Some(model) => model,
                None => serde_json::from_str(classify::DEFAULT_MODEL_JSON)?,
            });
        }
    }
    let options = classify::TrainOptions {
        title_weight: config.classify.title_weight,
        date_label_weight: config.classify.date_label_weight,
        seed,
        base,
        sources,
    };
    let model = classify::train(&taxonomy, &examples, &options)?;

    let mut per_label = std::collections::BTreeMap::<&str, usize>::new();
    for example in &examples {
        *per_label.entry(example.label.as_str()).or_default() += 1;
    }
    println!("trained on {} examples:", examples.len());
    for (label, n) in &per_label {
        println!("  {label:<24} {n}");
    }
    let holdout = &model.holdout;
    println!(
        "held-out accuracy {:.3}, macro-F1 {:.3} on {} examples the model did not see",
        holdout.accuracy, holdout.macro_f1, holdout.examples
    );
    for class in &holdout.per_class {
        println!(
            "  {:<24} F1 {:.3} ({} examples)",
            class.label, class.f1, class.examples
        );
    }
    let written = match (output, &archive) {
        (Some(path), _) => {
            let json = serde_json::to_vec(&model)?;
            archive::write_atomically(path, &json).with_context(|| format!("writing {}", path.display()))?;
            path.to_path_buf()
        }
        (None, Some(archive)) => archive.save_model(&model)?,
        (None, None) => unreachable!("an archive is opened when no output is given"),
    };
    println!(
        "model {} ({} words and pairs) written to {} in {:.1} s",
        model.version,
        model.vocab.len(),
        written.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads `{"text": ..., "doc_type": ...}` lines (other keys ignored; `label` is accepted for
/// `doc_type`).
fn read_examples(path: &std::path::Path, examples: &mut Vec<classify::Example>) -> anyhow::Result<()> {
    #[derive(serde::Deserialize)]
    struct Line {
        text: String,
        #[serde(alias = "label")]
        doc_type: String,
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line: Line =
            serde_json::from_str(line).with_context(|| format!("{}:{}", path.display(), n + 1))?;
        examples.push(classify::Example {
            text: line.text,
            label: line.doc_type,
        });
    }
    Ok(())
}

fn watch_folders(config: &Config, inbox: Option<PathBuf>) -> anyhow::Result<Folders> {
    Folders::prepare(
        &inbox.unwrap_or_else(|| config.watch.inbox.clone()),
        &config.watch.processing,
        &config.watch.quarantine,
    )
}

fn watch(
    config: &Config,
    archive_dir: &std::path::Path,
    inbox: Option<PathBuf>,
    poll: Option<f64>,
    until_idle: bool,
    jobs: Option<usize>,
) -> anyhow::Result<ExitCode> {
    let folders = watch_folders(config, inbox)?;
    let poll = poll
        .map(|secs| {
            anyhow::ensure!(
                secs > 0.0 && secs.is_finite(),
                "--poll takes a positive number of seconds"
            );
            Ok(std::time::Duration::from_secs_f64(secs))
        })
        .transpose()?;
    let archive = Archive::open(archive_dir)?;
    let classifier = pipeline::load_classifier(config, &archive)?;
    let jobs = jobs.filter(|&j| j > 0).unwrap_or_else(|| config.jobs());
    let workers = Workers::start(config, jobs)?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, std::sync::Arc::clone(&stop))
            .context("installing a signal handler")?;
    }
    let settings = pipeline::WatchSettings::from_config(config, folders, poll, until_idle);
    tracing::info!(jobs, poll = ?settings.poll, "watching the inbox");
    let summary = pipeline::watch(config, &archive, &workers, &classifier, &settings, &stop)?;
    tracing::info!(?summary, "stopped");
    if until_idle {
        println!(
            "filed {} files, {} duplicates, {} quarantined",
            summary.filed, summary.duplicates, summary.quarantined
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses a type id the taxonomy does not define, naming the ones it does.
fn check_type(config: &Config, doc_type: &str) -> anyhow::Result<()> {
    let ids = config.type_ids()?;
    if !ids.iter().any(|id| id == doc_type) {
        anyhow::bail!("unknown type {doc_type:?}; the types are {}", ids.join(", "));
    }
    Ok(())
}

fn status(config: &Config, archive_dir: &std::path::Path, json: bool) -> anyhow::Result<ExitCode> {
    let folders = Folders {
        inbox: config.watch.inbox.clone(),
        processing: config.watch.processing.clone(),
        quarantine: config.watch.quarantine.clone(),
    };
    let (waiting, processing, quarantined) = inbox::counts(&folders);
    let conn = Archive::existing(archive_dir)?.connect()?;
    let status = archive::station_status(&conn, chrono::Local::now())?;
    if json {
        print_json(&serde_json::json!({
            "inbox": waiting,
            "processing": processing,
            "quarantined": quarantined,
            "filed_today": status.filed_today,
            "documents_today": status.documents_today,
            "pages_need_rescan": status.pages_need_rescan,
            "last_error": status.last_error.as_ref().map(|(at, reason)| serde_json::json!({"at": at, "reason": reason})),
        }))?;
    } else {
        println!("inbox        {waiting} files waiting");
        println!("processing   {processing} files in flight");
        println!("quarantine   {quarantined} files");
        println!(
            "filed today  {} files ({} documents)",
            status.filed_today, status.documents_today
        );
        println!(
            "rescan       {} pages read too poorly to trust",
            status.pages_need_rescan
        );
        match &status.last_error {
            Some((at, reason)) => println!("last error   {at}  {reason}"),
            None => println!("last error   -"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn ingest(
    config: &Config,
    archive_dir: &std::path::Path,
    paths: &[PathBuf],
    jobs: Option<usize>,
) -> anyhow::Result<ExitCode> {
    let files = crate::intake::collect(paths)?;
    let archive = Archive::open(archive_dir)?;
    let jobs = jobs.filter(|&j| j > 0).unwrap_or_else(|| config.jobs());
    let classifier = pipeline::load_classifier(config, &archive)?;
    let workers = Workers::start(config, jobs)?;
    let progress = Progress::new(files.len());
    let summary = pipeline::ingest(config, &archive, &workers, &classifier, &files, &|event| {
        progress.on(event)
    })?;
    progress.bar.finish_and_clear();

    let secs = summary.elapsed.as_secs_f64();
    println!(
        "filed {} documents from {} files, {} duplicates, {} failed, {} pages in {:.1} s ({:.2} pages/s)",
        summary.documents_filed,
        summary.files_filed,
        summary.duplicates,
        summary.failed,
        summary.pages,
        secs,
        summary.pages as f64 / secs.max(1e-9),
    );
    for (report, failure) in summary.failures() {
        println!("failed: {}: {failure}", report.origin.path.expose());
    }
    Ok(if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A progress bar counting `unit`s on stderr, drawn only when `wanted` and stderr is a
/// terminal.
fn progress_bar(len: Option<u64>, unit: &str, wanted: bool) -> ProgressBar {
    let bar = if wanted && std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    let template =
        format!("{{elapsed_precise}} [{{bar:32}}] {{pos}}/{{len}} {unit}  {{per_sec}}  ETA {{eta}}");
    bar.set_style(
        ProgressStyle::with_template(&template)
            .expect("static template")
            .progress_chars("=> "),
    );
    bar
}

/// A progress bar in pages (shown only when stderr is a terminal). The total grows as files are
/// opened; files not opened yet count at the mean pages per file seen so far.
struct Progress {
    bar: ProgressBar,
    files_total: usize,
    files_opened: AtomicUsize,
    pages_known: AtomicUsize,
}

impl Progress {
    fn new(files_total: usize) -> Self {
        let bar = progress_bar(Some(files_total as u64), "pages", true);
        Progress {
            bar,
            files_total,
            files_opened: AtomicUsize::new(0),
            pages_known: AtomicUsize::new(0),
        }
    }

    fn on(&self, event: Event) {
        match event {
            Event::FileOpened { n_pages } => {
                let opened = self.files_opened.fetch_add(1, Ordering::Relaxed) + 1;
                let known = self.pages_known.fetch_add(n_pages, Ordering::Relaxed) + n_pages;
                let unopened = self.files_total.saturating_sub(opened);
                let estimate = known + unopened * known.div_ceil(opened).max(1);
                self.bar
                    .set_length(estimate.max(self.bar.position() as usize) as u64);
            }
            Event::PageDone => self.bar.inc(1),
            Event::FileDone => {}
        }
    }
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn print_document(view: &archive::DocumentView) {
    let dash = || "-".to_string();
    println!("document    {}", view.id);
    println!(
        "source      {} (pages {}-{} of {})",
        view.source,
        view.first_page,
        view.first_page + view.pages - 1,
        view.file_pages
    );
    println!("sha256      {}", view.sha256);
    println!("size        {} bytes, {}", view.size, view.media_type);
    println!("ingested    {}", view.ingested_at);
    println!(
        "type        {}{}{}",
        view.doc_type.clone().unwrap_or_else(dash),
        view.doc_type_confidence
            .map(|c| format!(" ({:.0}%)", c * 100.0))
            .unwrap_or_default(),
        if view.doc_type_source == "operator" {
            ", set by an operator"
        } else {
            ""
        }
    );
    if let Some(reason) = &view.doc_type_reason {
        println!("            {reason}");
    }
    let patient = view.patient.as_ref();
    let or_dash = |v: Option<&String>| v.cloned().unwrap_or_else(dash);
    println!(
        "patient     {}, {}  MRN {}  DOB {}",
        or_dash(patient.and_then(|p| p.last.as_ref())),
        or_dash(patient.and_then(|p| p.first.as_ref())),
        or_dash(patient.and_then(|p| p.mrn.as_ref())),
        or_dash(patient.and_then(|p| p.dob.as_ref())),
    );
    println!(
        "            from {}{}",
        view.patient_source.replace('_', " "),
        view.patient_match
            .as_ref()
            .map(|m| format!(", patient index: {}", m.replace('_', " ")))
            .unwrap_or_default()
    );
    for finding in &view.findings {
        println!("review      {finding}");
    }
    println!(
        "ocr conf    {}",
        view.ocr_confidence
            .map(|c| format!("{c:.1}"))
            .unwrap_or_else(dash)
    );
    for page in &view.page_texts {
        let mut how = match (page.text_source.as_str(), page.dpi, page.ocr_confidence) {
            _ if page.blank => "blank, not OCRed".to_string(),
            ("ocr", Some(dpi), Some(conf)) => format!("ocr at {dpi} dpi, confidence {conf:.0}"),
            (source, _, _) => source.replace('_', " "),
        };
        if page.rotation != 0 {
            how.push_str(&format!(", turned {}°", page.rotation));
        }
        if let Some(skew) = page.skew.filter(|s| s.abs() >= 0.05) {
            how.push_str(&format!(", skew {skew:.1}°"));
        }
        if page.needs_rescan {
            how.push_str(", NEEDS RESCAN");
        }
        println!("\n--- page {} ({how}) ---", page.page);
        println!("{}", page.text.trim_end());
    }
}
