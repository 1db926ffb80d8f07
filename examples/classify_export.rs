//! Re-classifies a JSON-lines export (or any {"text": ...} lines) with the shipped model and the
//! configured taxonomy, writing the lines back with `doc_type`, `doc_type_confidence` and
//! `reason` replaced: for measuring the classifier on an existing export without re-running OCR.
//!
//!     cargo run --release --example classify_export -- export.jsonl > reclassified.jsonl

use chartscan::classify::{self, Classifier, Settings};
use chartscan::config::Config;

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .expect("usage: classify_export EXPORT.jsonl");
    let config = Config::load(None)?;
    let classifier = Classifier::new(
        config.taxonomy()?,
        Classifier::default_model()?,
        Settings::from_config(&config.classify),
    );
    for line in std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let mut record: serde_json::Value = serde_json::from_str(line)?;
        let text = record["text"].as_str().unwrap_or("").to_string();
        let pages: Vec<&str> = text.split('\u{c}').collect();
        let result = classify::document(&classifier, &pages);
        record["doc_type"] = result.doc_type.into();
        record["doc_type_confidence"] = f64::from(result.confidence).into();
        record["reason"] = result.reason.into();
        println!("{}", serde_json::to_string(&record)?);
    }
    Ok(())
}
