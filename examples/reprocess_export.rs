//! Re-runs the text stages (splitting, classification, identification, patient-index matching)
//! over the page texts of a JSON-lines export, writing a new export: for measuring those stages
//! on an already-OCRed corpus in seconds.
//!
//!     cargo run --release --example reprocess_export -- export.jsonl [patients.csv] > again.jsonl
//!
//! Records of one source file are put back together in page order, so splitting is redone too.

use std::collections::BTreeMap;

use chartscan::classify::{Classifier, Settings};
use chartscan::config::Config;
use chartscan::identify::{self, IndexPatient, MemoryIndex, Mrn, PersonName};
use chartscan::pipeline::{PageInput, TextStages, understand};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: reprocess_export EXPORT.jsonl [PATIENTS.csv]");
    let index = args.next().map(|csv| read_index(&csv)).transpose()?;
    let config = Config::load(None)?;
    let classifier = Classifier::new(
        config.taxonomy()?,
        Classifier::default_model()?,
        Settings::from_config(&config.classify),
    );
    let rules = identify::Rules::from_config(&config.identify)?;
    let stages = TextStages {
        classifier: &classifier,
        rules: &rules,
        index: index.as_ref().map(|i| i as &dyn identify::PatientIndex),
        known: None,
        today: chrono::Local::now().date_naive(),
    };
    let mut files: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for line in std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let record: serde_json::Value = serde_json::from_str(line)?;
        let source = record["source"].as_str().unwrap_or("").to_string();
        let first_page = record["first_page"].as_u64().unwrap_or(1);
        files
            .entry(source)
            .or_default()
            .push((first_page, record["text"].as_str().unwrap_or("").to_string()));
    }
    for (source, mut records) in files {
        records.sort();
        let texts: Vec<String> = records
            .iter()
            .flat_map(|(_, t)| t.split('\u{c}').map(str::to_string))
            .collect();
        let pages: Vec<PageInput<'_>> = texts
            .iter()
            .enumerate()
            .map(|(i, text)| PageInput {
                page_no: i as u32 + 1,
                text,
                cover: None,
                unreadable_barcode: false,
                words: &[],
            })
            .collect();
        for document in understand(&stages, &pages).documents {
            let span = document.span;
            let text: Vec<&str> = texts
                [span.first_page as usize - 1..(span.first_page + span.n_pages) as usize - 1]
                .iter()
                .map(String::as_str)
                .collect();
            let p = &document.patient;
            let record = serde_json::json!({
                "source": source,
                "first_page": span.first_page,
                "pages": span.n_pages,
                "doc_type": document.classification.doc_type,
                "doc_type_confidence": document.classification.confidence,
                "patient": {"mrn": p.mrn, "last": p.last, "first": p.first, "dob": p.dob},
                "patient_match": p.index_match,
                "findings": document.findings,
                "text": text.join("\u{c}"),
            });
            println!("{record}");
        }
    }
    Ok(())
}

fn read_index(path: &str) -> anyhow::Result<MemoryIndex> {
    let mut reader = csv::Reader::from_path(path)?;
    let mut patients = Vec::new();
    for row in reader.records() {
        let row = row?;
        patients.push(IndexPatient {
            mrn: Mrn::from_normalized(&identify::normalize_mrn(&row[0])),
            name: PersonName {
                last: row[1].to_string(),
                first: row[2].to_string(),
            },
            dob: row[3].parse()?,
            aliases: Vec::new(),
        });
    }
    Ok(MemoryIndex::new(patients))
}
