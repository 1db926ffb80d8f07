//! Classification throughput on one core: `scripts/bench-classify` runs this.
//!
//!     cargo run --release --example bench_classify -- MANIFEST.jsonl [ROUNDS]
//!
//! Classifies the page texts of every document of a corpus manifest, over and over on this one
//! thread, in ROUNDS rounds of one second (default 7), and prints the median and best documents
//! per second with the shipped model.

use std::time::{Duration, Instant};

use chartscan::classify::{self, Classifier, Settings, Taxonomy};
use chartscan::config::Config;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let manifest = args
        .first()
        .expect("usage: bench_classify MANIFEST.jsonl [ROUNDS]");
    let rounds: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(7).max(1);
    let mut documents: Vec<Vec<String>> = Vec::new();
    for line in std::fs::read_to_string(manifest)?.lines() {
        let record: serde_json::Value = serde_json::from_str(line)?;
        if let Some(pages) = record["page_text"].as_array() {
            documents.push(
                pages
                    .iter()
                    .map(|p| p.as_str().unwrap_or("").to_string())
                    .collect(),
            );
        }
    }
    let config = Config::default();
    let classifier = Classifier::new(
        Taxonomy::builtin(),
        Classifier::default_model()?,
        Settings::from_config(&config.classify),
    );
    let chars: usize = documents.iter().flatten().map(String::len).sum();
    println!(
        "{} documents, {} characters of text on average",
        documents.len(),
        chars / documents.len().max(1)
    );

    // Several short rounds: the machine is shared, so the median and the best round say more
    // than one long average.
    let mut rates = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let mut classified = 0usize;
        while started.elapsed() < Duration::from_secs(1) {
            for pages in &documents {
                let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
                std::hint::black_box(classify::document(&classifier, &pages));
                classified += 1;
            }
        }
        rates.push(classified as f64 / started.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "classified on one core: median {:.0} documents/s, best {:.0} ({} rounds of 1 s)",
        rates[rates.len() / 2],
        rates[rates.len() - 1],
        rates.len()
    );
    Ok(())
}
