//! Re-indexing: the text stages (splitting, classification, identification, patient-index
//! matching) run again over the page text the archive stores, after the rules, the model or
//! the patient index changed. No OCR.
//!
//! Files are done in batches in file-id order: a batch is loaded in three queries, understood
//! in parallel, and written in one transaction that also records how far the run got, so an
//! interrupted run started again with the same selection resumes after the last batch
//! committed. Values a person decided are never overwritten: a type or patient an operator set
//! or a document a person confirmed (`review accept`) keeps its values, and a file holding such
//! a document keeps its split.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use rayon::prelude::*;
use rusqlite::TransactionBehavior;
use serde::Serialize;

use super::documents::{PageInput, TextStages, understand};
use super::{ReadPage, Workers, read_pages};
use crate::archive::reindex::{self as stored, Keep, Selection, StoredDocument, StoredFile};
use crate::archive::{self, Archive, NewDocument, audit};
use crate::classify::Classifier;
use crate::config::Config;
use crate::cover::CoverSheet;
use crate::decode::{self, Limits};
use crate::identify::{self, KnownPatients, MatchBasis, PatientIndex};
use crate::intake;
use crate::model::{ErrorKind, Failure, PageText, Stage, Word};

/// Files per batch (and per transaction) unless told otherwise.
pub const BATCH: usize = 500;

#[derive(Debug, Clone)]
pub struct Options {
    pub selection: Selection,
    /// Work out and report the changes; write nothing.
    pub dry_run: bool,
    /// Files per batch: each batch is one transaction, and where a resumed run starts.
    pub batch: usize,
}

/// What a run changed (or, dry, would change).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub files: usize,
    pub documents: usize,
    pub type_changes: usize,
    pub patient_changes: usize,
    /// Documents that were orphans (or unmatched) and now match a patient of the index.
    pub newly_matched: usize,
    /// Documents whose faded MRN and birth date were filled in, with no index, from the one
    /// patient of their name the archive's other documents identify clearly.
    pub filled_from_archive: usize,
    /// Files whose documents were split again differently.
    pub resplit_files: usize,
    /// Values left alone because a person decided them, though the machine now says otherwise.
    pub kept: usize,
    /// Pages read again from the stored originals (`--ocr`), and how many now read differently.
    pub pages_read: usize,
    pub pages_changed: usize,
    /// Files whose stored original could not be read again (`--ocr`), or read again holds
    /// only cover sheets; left as they were.
    pub unreadable: usize,
    /// The run resumed an interrupted one after this file id.
    pub resumed_after: Option<i64>,
    pub dry_run: bool,
    pub changes: Vec<Change>,
}

/// One change, for the operator.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub file_id: i64,
    pub document_id: Option<i64>,
    pub what: String,
}

/// What to do with one file.
enum Plan {
    /// The same split: each stored document with the machine's new values.
    Same(Vec<(StoredDocument, NewDocument)>),
    /// A different split.
    Resplit(Vec<NewDocument>),
}

/// A file read again from its stored original (`--ocr`).
struct Reread {
    /// Its content pages.
    pages: Vec<PageText>,
    /// The cover sheets among its pages (page number, payload).
    covers: Vec<(u32, String)>,
}

/// Re-indexes the selected files; `progress(done, total)` is called after each batch. With
/// `ocr` (the worker pool and its engines), every page is first read again from the stored
/// original, as ingest reads it, and the stored pages are replaced.
pub fn reindex(
    config: &Config,
    archive: &Archive,
    classifier: &Classifier,
    options: &Options,
    ocr: Option<&Workers>,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<Report> {
    let mut conn = archive.connect()?;
    let rules = identify::Rules::from_config(&config.identify)?;
    let index = archive::load_index(&conn)?;
    // Without an index, the patients the documents identify clearly as the run starts (a faded
    // label is filled in from them; what a run changes is not built on within it).
    let known = match index {
        Some(_) => None,
        None => Some(archive::load_known(&conn)?),
    };
    let today = chrono::Local::now().date_naive();
    let limits = Limits::from_config(config);
    let run = options.selection.key(ocr.is_some());
    let resumed_after = if options.dry_run {
        None
    } else {
        stored::progress(&conn, &run)?
    };
    let file_ids = stored::files(&conn, &options.selection, resumed_after.unwrap_or(0))?;
    let mut report = Report {
        resumed_after,
        dry_run: options.dry_run,
        ..Report::default()
    };
    let total = file_ids.len();
    for batch in file_ids.chunks(options.batch.max(1)) {
        let files = stored::load(&conn, batch)?;
        let replan = |file: &StoredFile, pages: &[PageInput<'_>]| {
            let stages = TextStages {
                classifier,
                rules: &rules,
                index: index.as_ref().map(|i| i as &dyn PatientIndex),
                known: known.as_ref().map(|k| k as &dyn KnownPatients),
                today,
            };
            plan(&stages, file, pages)
        };
        let work: Vec<Result<(Plan, Option<Reread>), Failure>> = match ocr {
            None => files
                .par_iter()
                .map(|file| {
                    let words = stored_words(file);
                    Ok((replan(file, &stored_inputs(file, &words)).0, None))
                })
                .collect(),
            Some(workers) => workers.pool.install(|| {
                files
                    .par_iter()
                    .map(|file| {
                        let read = reread_guarded(config, workers, archive, &limits, file)?;
                        let inputs: Vec<PageInput<'_>> = read.iter().map(ReadPage::input).collect();
                        let (plan, covers) = replan(file, &inputs);
                        let pages = ReadPage::content(read);
                        if pages.is_empty() {
                            // As ingest refuses such a file: it would be one no search,
                            // export or review shows.
                            return Err(Failure::new(
                                Stage::Decode,
                                ErrorKind::Empty,
                                "read again, it holds only cover sheets, no pages to file",
                            ));
                        }
                        Ok((plan, Some(Reread { pages, covers })))
                    })
                    .collect()
            }),
        };
        let now = archive::timestamp_now();
        let behavior = if options.dry_run {
            TransactionBehavior::Deferred
        } else {
            TransactionBehavior::Immediate
        };
        let tx = conn.transaction_with_behavior(behavior)?;
        let mut changed_ids = Vec::new();
        for (file, work) in files.iter().zip(work) {
            report.files += 1;
            match work {
                Ok((plan, reread)) => {
                    if let Some(reread) = &reread
                        && roles_changed(file, reread)
                        && decided(&tx, file)?
                    {
                        report.kept += 1;
                        report.changes.push(Change {
                            file_id: file.id,
                            document_id: None,
                            what: format!(
                                "file {}: left as it was: read again, its cover sheets are other pages, but a person decided values of its documents",
                                file.id
                            ),
                        });
                        continue;
                    }
                    let spans = apply(
                        &tx,
                        file,
                        plan,
                        options.dry_run,
                        &now,
                        &mut report,
                        &mut changed_ids,
                    )?;
                    if let Some(reread) = reread {
                        store_reread(&tx, file, &reread, &spans, options.dry_run, &mut report)?;
                    }
                }
                Err(failure) => {
                    report.unreadable += 1;
                    report.changes.push(Change {
                        file_id: file.id,
                        document_id: None,
                        what: format!("file {}: left as it was: {failure}", file.id),
                    });
                }
            }
        }
        if options.dry_run {
            tx.rollback()?;
        } else {
            let last = *batch.last().expect("chunks are never empty");
            stored::save_progress(&tx, &run, last, &now)?;
            let detail = serde_json::json!({
                "files": batch.len(),
                "changed_documents": changed_ids.len(),
                "ocr": ocr.is_some(),
            });
            audit::append(&tx, "reindex", &changed_ids, detail, &now)?;
            tx.commit()?;
        }
        progress(report.files, total);
    }
    if options.dry_run {
        let ids: Vec<i64> = report.changes.iter().filter_map(|c| c.document_id).collect();
        let detail = serde_json::json!({"files": report.files, "dry_run": true, "ocr": ocr.is_some()});
        audit::record(&mut conn, "reindex", &ids, detail)?;
    } else {
        stored::clear_progress(&conn, &run)?;
    }
    Ok(report)
}

/// The OCR words of a file's stored pages, in their order.
fn stored_words(file: &StoredFile) -> Vec<Vec<Word>> {
    file.pages
        .iter()
        .map(|p| p.words.as_deref().map(archive::parse_words).unwrap_or_default())
        .collect()
}

/// The stored pages (with their `words`) and cover sheets of a file, in page order, as the
/// text stages take them.
fn stored_inputs<'a>(file: &'a StoredFile, words: &'a [Vec<Word>]) -> Vec<PageInput<'a>> {
    let mut pages: Vec<PageInput<'a>> = file
        .pages
        .iter()
        .zip(words)
        .map(|(page, words)| PageInput {
            page_no: page.page_no,
            text: &page.text,
            cover: None,
            unreadable_barcode: false,
            words,
        })
        .chain(file.covers.iter().map(|(page_no, payload)| PageInput {
            page_no: *page_no,
            text: "",
            cover: CoverSheet::parse(payload),
            unreadable_barcode: false,
            words: &[],
        }))
        .collect();
    pages.sort_by_key(|p| p.page_no);
    pages
}

/// Reads every page of a file again from its stored original, checking first that the
/// original is the one filed. A panic inside is this file's failure, as in ingest.
fn reread_guarded(
    config: &Config,
    workers: &Workers,
    archive: &Archive,
    limits: &Limits,
    file: &StoredFile,
) -> Result<Vec<ReadPage>, Failure> {
    let reread = || -> Result<Vec<ReadPage>, Failure> {
        let unreadable = |why: String| Failure::new(Stage::Read, ErrorKind::Unreadable, why);
        let bytes = std::fs::read(archive.object_path(&file.sha256))
            .map_err(|e| unreadable(format!("its stored original cannot be read ({})", e.kind())))?;
        if intake::sha256_hex(&bytes) != file.sha256 {
            return Err(unreadable(
                "its stored original does not match its recorded SHA-256 (see `chartscan verify`)".into(),
            ));
        }
        let opened = decode::open(Arc::from(bytes), limits)?;
        read_pages(config, workers, &opened, &|| {})
    };
    catch_unwind(AssertUnwindSafe(reread)).unwrap_or_else(|_| {
        Err(Failure::new(
            Stage::Decode,
            ErrorKind::Corrupt,
            "internal error while reading it again (a bug in chartscan)",
        ))
    })
}

/// Understands a file's pages again and compares the split with the stored one; also gives the
/// cover sheets found.
fn plan(stages: &TextStages<'_>, file: &StoredFile, pages: &[PageInput<'_>]) -> (Plan, Vec<(u32, String)>) {
    let understood = understand(stages, pages);
    let new = understood.documents;
    let same_split = new.len() == file.documents.len()
        && new
            .iter()
            .zip(&file.documents)
            .all(|(n, o)| n.span.first_page == o.first_page && n.span.n_pages == o.n_pages);
    let plan = if same_split {
        Plan::Same(file.documents.iter().cloned().zip(new).collect())
    } else {
        Plan::Resplit(new)
    };
    (plan, understood.covers)
}

fn apply(
    tx: &rusqlite::Transaction<'_>,
    file: &StoredFile,
    plan: Plan,
    dry_run: bool,
    now: &str,
    report: &mut Report,
    changed_ids: &mut Vec<i64>,
) -> anyhow::Result<Vec<DocumentSpan>> {
    let stored_spans: Vec<DocumentSpan> = file
        .documents
        .iter()
        .map(|d| (d.id, d.first_page, d.n_pages))
        .collect();
    let mut note = |document_id: Option<i64>, what: String| {
        report.changes.push(Change {
            file_id: file.id,
            document_id,
            what,
        });
    };
    match plan {
        Plan::Resplit(new) => {
            let decided = decided(tx, file)?;
            let spans = |spans: Vec<(u32, u32)>| {
                spans
                    .iter()
                    .map(|&(first, n)| {
                        if n == 1 {
                            format!("{first}")
                        } else {
                            format!("{first}-{}", first + n - 1)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let old_spans = spans(file.documents.iter().map(|d| (d.first_page, d.n_pages)).collect());
            let new_spans = spans(new.iter().map(|d| (d.span.first_page, d.span.n_pages)).collect());
            report.documents += file.documents.len();
            if decided {
                report.kept += 1;
                note(
                    None,
                    format!(
                        "file {}: kept its split (pages {old_spans}): a person decided values of its documents; the rules now split it as {new_spans}",
                        file.id
                    ),
                );
                return Ok(stored_spans);
            }
            report.resplit_files += 1;
            note(
                None,
                format!("file {}: split again: pages {old_spans} -> {new_spans}", file.id),
            );
            if dry_run {
                return Ok(stored_spans);
            }
            let ids = stored::resplit(tx, file.id, &file.documents, &new, now)?;
            changed_ids.extend(&ids);
            Ok(ids
                .into_iter()
                .zip(&new)
                .map(|(id, d)| (id, d.span.first_page, d.span.n_pages))
                .collect())
        }
        Plan::Same(pairs) => {
            for (old, new) in pairs {
                report.documents += 1;
                let mut changed = false;
                let new_type = &new.classification.doc_type;
                let type_differs = old.doc_type.as_deref() != Some(new_type.as_str());
                let keep_type = old.type_by_operator || old.reviewed;
                if type_differs {
                    let old_type = old.doc_type.as_deref().unwrap_or("-");
                    if keep_type {
                        report.kept += 1;
                        note(
                            Some(old.id),
                            format!(
                                "document {}: type {old_type} kept (decided by a person); the machine now says {new_type}",
                                old.id
                            ),
                        );
                    } else {
                        report.type_changes += 1;
                        changed = true;
                        note(
                            Some(old.id),
                            format!("document {}: type {old_type} -> {new_type}", old.id),
                        );
                    }
                }
                let keep_patient = old.patient_by_operator || old.reviewed;
                let new_patient = stored::StoredPatient::from(&new.patient);
                if new_patient != old.patient {
                    if keep_patient {
                        report.kept += 1;
                        note(
                            Some(old.id),
                            format!("document {}: patient kept (decided by a person)", old.id),
                        );
                    } else {
                        report.patient_changes += 1;
                        changed = true;
                        let archive = MatchBasis::KnownNameAndPartialIds.as_str();
                        let matched = |m: &Option<String>| m.as_deref().is_some_and(|m| m != "orphan");
                        if !matched(&old.patient.index_match) && matched(&new_patient.index_match) {
                            if new_patient.index_match.as_deref() == Some(archive) {
                                report.filled_from_archive += 1;
                            } else {
                                report.newly_matched += 1;
                            }
                        }
                        note(
                            Some(old.id),
                            format!(
                                "document {}: patient{}",
                                old.id,
                                patient_change(&old.patient, &new_patient)
                            ),
                        );
                    }
                }
                if !dry_run {
                    let keep = Keep {
                        doc_type: keep_type,
                        patient: keep_patient,
                    };
                    stored::update_document(tx, old.id, &new, keep, now)?;
                }
                if changed {
                    changed_ids.push(old.id);
                }
            }
            Ok(stored_spans)
        }
    }
}

/// A document's place in its file: (id, first page, pages).
type DocumentSpan = (i64, u32, u32);

/// Whether a person decided anything about the documents of a file (a correction, a value set,
/// a review).
fn decided(tx: &rusqlite::Transaction<'_>, file: &StoredFile) -> anyhow::Result<bool> {
    if file
        .documents
        .iter()
        .any(|d| d.type_by_operator || d.patient_by_operator || d.reviewed)
    {
        return Ok(true);
    }
    let ids: Vec<i64> = file.documents.iter().map(|d| d.id).collect();
    stored::corrected(tx, &ids)
}

/// Whether reading a file again found its cover sheets on other pages than filing did.
fn roles_changed(file: &StoredFile, reread: &Reread) -> bool {
    let pages = |covers: &[(u32, String)]| covers.iter().map(|(n, _)| *n).collect::<Vec<_>>();
    pages(&file.covers) != pages(&reread.covers)
}

/// Counts and notes how a file read again differs from what was stored, and stores the new
/// pages in the documents `spans` now hold.
fn store_reread(
    tx: &rusqlite::Transaction<'_>,
    file: &StoredFile,
    reread: &Reread,
    spans: &[DocumentSpan],
    dry_run: bool,
    report: &mut Report,
) -> anyhow::Result<()> {
    let stored: std::collections::HashMap<u32, &str> =
        file.pages.iter().map(|p| (p.page_no, p.text.as_str())).collect();
    let changed = reread
        .pages
        .iter()
        .filter(|p| stored.get(&p.page_no) != Some(&p.text.as_str()))
        .count();
    let n_pages = reread.pages.len() + reread.covers.len();
    report.pages_read += n_pages;
    report.pages_changed += changed;
    if changed > 0 || roles_changed(file, reread) {
        report.changes.push(Change {
            file_id: file.id,
            document_id: None,
            what: format!(
                "file {}: read again from its original: {changed} of {n_pages} pages read differently",
                file.id
            ),
        });
    }
    if !dry_run {
        stored::replace_pages(tx, file.id, &reread.pages, &reread.covers, spans)?;
    }
    Ok(())
}

/// What changed of a patient, for the operator: the MRN with its values, the name and birth
/// date only by name (`: MRN - -> 448213, name (index: none -> mrn)`).
fn patient_change(a: &stored::StoredPatient, b: &stored::StoredPatient) -> String {
    let mrn = |m: &Option<String>| m.clone().unwrap_or_else(|| "-".into());
    let mut fields = Vec::new();
    if a.mrn != b.mrn {
        fields.push(format!("MRN {} -> {}", mrn(&a.mrn), mrn(&b.mrn)));
    }
    if (&a.last, &a.first) != (&b.last, &b.first) {
        fields.push("name".to_string());
    }
    if a.dob != b.dob {
        fields.push("date of birth".to_string());
    }
    let fields = if fields.is_empty() {
        String::new()
    } else {
        format!(": {}", fields.join(", "))
    };
    let how = if a.index_match == b.index_match {
        String::new()
    } else {
        format!(
            " (index: {} -> {})",
            a.index_match.as_deref().unwrap_or("none"),
            b.index_match.as_deref().unwrap_or("none")
        )
    };
    format!("{fields}{how}")
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::Arc;

    use super::*;
    use crate::archive::{NewFile, correct};
    use crate::model::{MediaType, Origin, PageText, Phi};
    use crate::pipeline::load_classifier;

    const LETTER: &str = "RIVERBEND COMMUNITY HOSPITAL
12 Mill Race Rd, Riverbend, NE 68001  Tel (402) 555-0100
PATIENT: WALSH, PETRA    MRN: 448-213    DOB: 03/14/1958
DISCHARGE SUMMARY
HOSPITAL COURSE: The patient was admitted with community-acquired pneumonia and treated with
intravenous ceftriaxone and azithromycin. She improved steadily and was discharged home.";

    /// An archive of `n` one-page files filed under `config`'s rules.
    fn archive_of(n: usize, config: &Config) -> (tempfile::TempDir, Archive) {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(&dir.path().join("archive")).unwrap();
        let mut conn = archive.connect().unwrap();
        let classifier = load_classifier(config, &archive).unwrap();
        let rules = identify::Rules::from_config(&config.identify).unwrap();
        for i in 0..n {
            let text = format!("{LETTER}\nVisit {i}.");
            let stages = TextStages {
                classifier: &classifier,
                rules: &rules,
                index: None,
                known: None,
                today: chrono::Local::now().date_naive(),
            };
            let input = PageInput {
                page_no: 1,
                text: &text,
                cover: None,
                unreadable_barcode: false,
                words: &[],
            };
            let documents = understand(&stages, &[input]).documents;
            let new = NewFile {
                origin: Origin {
                    name: Phi::new(format!("{i}.pdf")),
                    path: Phi::new(format!("{i}.pdf")),
                    claim: None,
                },
                sha256: audit::text_hash(&text),
                size: text.len() as u64,
                bytes: Arc::from(text.as_bytes()),
                media_type: MediaType::Pdf,
                pages: vec![PageText::text_layer(1, text.clone())],
                documents,
                covers: Vec::new(),
            };
            archive::file(&mut conn, &archive, &new, chrono::Utc::now()).unwrap();
        }
        (dir, archive)
    }

    fn options(dry_run: bool) -> Options {
        Options {
            selection: Selection::default(),
            dry_run,
            batch: 1,
        }
    }

    fn mrns_and_types(archive: &Archive) -> Vec<(Option<String>, String)> {
        let conn = archive.connect().unwrap();
        let mut stmt = conn
            .prepare("SELECT patient_mrn, doc_type FROM documents ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn new_rules_apply_a_persons_values_stay_and_an_interrupted_run_resumes() {
        // Filed under rules that do not know the `MRN` label.
        let mut old_rules = Config::default();
        old_rules.identify.mrn_labels = vec!["Chart No".to_string()];
        let (_dir, archive) = archive_of(3, &old_rules);
        assert!(mrns_and_types(&archive).iter().all(|(mrn, _)| mrn.is_none()));
        let mut conn = archive.connect().unwrap();
        correct::set_type(&mut conn, 1, "consultation", &archive::timestamp_now()).unwrap();

        let config = Config::default();
        let classifier = load_classifier(&config, &archive).unwrap();
        // A dry run reports and writes nothing.
        let dry = reindex(&config, &archive, &classifier, &options(true), None, &|_, _| {}).unwrap();
        assert_eq!((dry.files, dry.patient_changes, dry.kept), (3, 3, 1));
        assert!(
            dry.changes.iter().any(|c| c.what.contains("MRN - -> 448213")),
            "{:?}",
            dry.changes
        );
        assert!(mrns_and_types(&archive).iter().all(|(mrn, _)| mrn.is_none()));

        // Interrupted after its first batch (one file) is committed.
        let interrupted = catch_unwind(AssertUnwindSafe(|| {
            reindex(
                &config,
                &archive,
                &classifier,
                &options(false),
                None,
                &|done, _| {
                    assert!(done < 1, "interrupted");
                },
            )
        }));
        assert!(interrupted.is_err());
        let now = mrns_and_types(&archive);
        assert_eq!(now[0], (Some("448213".to_string()), "consultation".to_string()));
        assert!(now[1].0.is_none() && now[2].0.is_none());

        let resumed = reindex(&config, &archive, &classifier, &options(false), None, &|_, _| {}).unwrap();
        assert_eq!(resumed.resumed_after, Some(1));
        assert_eq!((resumed.files, resumed.patient_changes), (2, 2));
        let now = mrns_and_types(&archive);
        assert!(now.iter().all(|(mrn, _)| mrn.as_deref() == Some("448213")));
        assert_eq!(now[0].1, "consultation", "the operator's type is kept");
        assert!(now[1..].iter().all(|(_, t)| t == "discharge_summary"));

        // Nothing left to do; the operator's type is reported as kept, not changed.
        let again = reindex(&config, &archive, &classifier, &options(false), None, &|_, _| {}).unwrap();
        assert_eq!(again.resumed_after, None);
        assert_eq!(
            (again.files, again.type_changes, again.patient_changes, again.kept),
            (3, 0, 0, 1)
        );
        let audited: i64 = conn
            .query_row("SELECT count(*) FROM audit WHERE action = 'reindex'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(audited >= 4, "every batch and the dry run are audited: {audited}");
    }

    #[test]
    fn a_selection_picks_files_and_unknown_ids_are_refused() {
        let (_dir, archive) = archive_of(3, &Config::default());
        let config = Config::default();
        let classifier = load_classifier(&config, &archive).unwrap();
        let mut only = options(true);
        only.selection.ids = vec![2];
        assert_eq!(
            reindex(&config, &archive, &classifier, &only, None, &|_, _| {})
                .unwrap()
                .files,
            1
        );
        only.selection.ids = vec![2, 99];
        let refused = reindex(&config, &archive, &classifier, &only, None, &|_, _| {}).unwrap_err();
        assert!(refused.to_string().contains("no document 99"), "{refused}");
        only.selection = Selection {
            doc_type: Some("lab_report".into()),
            ..Selection::default()
        };
        assert_eq!(
            reindex(&config, &archive, &classifier, &only, None, &|_, _| {})
                .unwrap()
                .files,
            0
        );
    }
}
