//! Fills an archive with N synthetic text-only documents, for `scripts/bench-reindex`.
//!
//!     cargo run --release --example synthetic_archive -- MANIFEST.jsonl ARCHIVE_DIR N
//!
//! Each document is the page text of a corpus document (in turn), given a patient of its own
//! (a generated name, MRN and birth date in the header block) and a visit number, and filed the
//! way ingest files a born-digital PDF: understood by the text stages, then one transaction.

use std::sync::Arc;

use chartscan::archive::{self, Archive, NewFile};
use chartscan::config::Config;
use chartscan::identify;
use chartscan::model::{MediaType, Origin, PageText, Phi};
use chartscan::pipeline::{PageInput, TextStages, load_classifier, understand};
use sha2::{Digest, Sha256};

const LAST: &[&str] = &[
    "Walsh",
    "Brandt",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Castillo",
    "Haddad",
    "Kowalski",
    "Reyes",
    "Fischer",
    "Osei",
    "Petrov",
    "Quinn",
    "Sato",
    "Varga",
];
const FIRST: &[&str] = &[
    "Petra", "Oskar", "Amara", "Lena", "Jules", "Kenji", "Rosa", "Omar", "Marta", "Diego", "Greta", "Kwame",
    "Ivan", "Nora", "Yuki", "Zoltan",
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [manifest, dir, n] = args.as_slice() else {
        anyhow::bail!("usage: synthetic_archive MANIFEST.jsonl ARCHIVE_DIR N");
    };
    let n: usize = n.parse()?;
    let mut templates: Vec<String> = Vec::new();
    for line in std::fs::read_to_string(manifest)?.lines() {
        let record: serde_json::Value = serde_json::from_str(line)?;
        if let Some(first) = record["page_text"].as_array().and_then(|p| p.first()) {
            // The body of the first page, below its header block.
            let body: Vec<&str> = first.as_str().unwrap_or("").lines().skip(6).collect();
            templates.push(body.join("\n"));
        }
    }
    let config = Config::load(None)?;
    let archive = Archive::open(std::path::Path::new(dir))?;
    let classifier = load_classifier(&config, &archive)?;
    let rules = identify::Rules::from_config(&config.identify)?;
    let stages = TextStages {
        classifier: &classifier,
        rules: &rules,
        index: None,
        known: None,
        today: chrono::Local::now().date_naive(),
    };
    let mut conn = archive.connect()?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    for i in 0..n {
        let (last, first) = (LAST[i % LAST.len()], FIRST[(i / LAST.len()) % FIRST.len()]);
        let mrn = 1_000_000 + (i * 7919) % 9_000_000;
        let text = format!(
            "MERIDIAN REGIONAL HEALTH\n410 Elm St, Kearney, NE 68847  Tel (308) 555-0100\nPATIENT: {}, {}    MRN: {mrn}    DOB: {:02}/{:02}/{}\nVisit {i}\n\n{}",
            last.to_uppercase(),
            first.to_uppercase(),
            1 + i % 12,
            1 + i % 28,
            1930 + i % 90,
            templates[i % templates.len()]
        );
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
                name: Phi::new(format!("synthetic-{i}.pdf")),
                path: Phi::new(format!("synthetic-{i}.pdf")),
                claim: None,
            },
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
            size: text.len() as u64,
            bytes: Arc::from(text.as_bytes()),
            media_type: MediaType::Pdf,
            pages: vec![PageText::text_layer(1, text)],
            documents,
            covers: Vec::new(),
        };
        archive::file(&mut conn, &archive, &new, chrono::Utc::now())?;
    }
    println!("filed {n} synthetic documents in {dir}");
    Ok(())
}
