//! search, show, export and failures on a small archive.

use crate::harness::TestDir;

fn archive_with_text() -> TestDir {
    let t = TestDir::new();
    t.put_fixture("formats/pdf-text.pdf", None);
    t.put_fixture("samples/born-digital-progress.pdf", None);
    t.put_fixture("formats/multi-g4.tif", None);
    assert_eq!(t.ingest().code, 0);
    t
}

#[test]
fn search_ranks_pages_and_highlights_the_match() {
    let t = archive_with_text();
    let run = t.run(&["search", "blood", "pressure", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let hits = run.json();
    let hits = hits.as_array().unwrap();
    assert_eq!(
        hits.len(),
        2,
        "the first pages of the two progress notes: {hits:?}"
    );
    for hit in hits {
        let snippet = hit["snippet"].as_str().unwrap();
        assert!(snippet.to_lowercase().contains("[blood] [pressure]"), "{snippet}");
        assert!(hit["page"].as_u64().unwrap() >= 1);
        assert!(hit["document_id"].as_i64().unwrap() >= 1);
    }
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");

    let limited = t.run(&["search", "blood", "--limit", "1", "--json"]).json();
    assert_eq!(limited.as_array().unwrap().len(), 1);

    let human = t.run(&["search", "Nakamura"]);
    assert!(human.stdout.contains("[Nakamura]"), "{human:?}");
    assert!(human.stdout.contains("pdf-text.pdf"), "{human:?}");

    let nothing = t.run(&["search", "zebra"]);
    assert_eq!(nothing.code, 0);
    assert!(nothing.stdout.contains("no matches"));

    let odd = t.run(&["search", "D.O.B.", "(", "AND"]);
    assert_eq!(odd.code, 0, "punctuation is not query syntax: {odd:?}");
}

#[test]
fn export_has_exactly_the_agreed_keys() {
    let t = archive_with_text();
    let records = t.export();
    assert_eq!(records.len(), 3);
    let expected = [
        "id",
        "source",
        "sha256",
        "first_page",
        "pages",
        "doc_type",
        "doc_type_confidence",
        "patient",
        "patient_confidence",
        "patient_match",
        "text",
        "ocr_confidence",
    ];
    let mut expected_sorted = expected.to_vec();
    expected_sorted.sort_unstable();
    for record in &records {
        let keys: Vec<&str> = record.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, expected_sorted);
    }
    // And in the agreed order on the wire.
    let raw = t.run(&["export", "--format", "jsonl"]).stdout;
    let first = raw.lines().next().unwrap();
    let positions: Vec<usize> = expected
        .iter()
        .map(|k| first.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{first}");
    let tiff = records.iter().find(|r| r["source"] == "multi-g4.tif").unwrap();
    assert_eq!(tiff["pages"], 3);
    assert_eq!(tiff["sha256"].as_str().unwrap().len(), 64);
    assert!(tiff["ocr_confidence"].as_f64().unwrap() > 0.0);
    assert_eq!(tiff["text"].as_str().unwrap().matches('\u{c}').count(), 2);

    let out = t.path().join("export.jsonl");
    let run = t.run(&["export", "--format", "jsonl", "--output", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(std::fs::read_to_string(out).unwrap().lines().count(), 3);
}

#[test]
fn show_prints_metadata_and_every_page() {
    let t = archive_with_text();
    let id = t.export().iter().find(|r| r["source"] == "pdf-text.pdf").unwrap()["id"].to_string();
    let run = t.run(&["show", &id]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("source      pdf-text.pdf (pages 1-2 of 2)"),
        "{run:?}"
    );
    assert!(run.stdout.contains("--- page 2 (text layer) ---"), "{run:?}");
    assert!(run.stdout.contains("PROGRESS NOTE"), "{run:?}");

    let missing = t.run(&["show", "9999"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("no document 9999"), "{missing:?}");
}

#[test]
fn failures_lists_what_could_not_be_filed() {
    let t = TestDir::new();
    t.put("empty.tif", b"");
    assert_eq!(t.ingest().code, 1);
    let run = t.run(&["failures"]);
    assert!(run.stdout.contains("decode: file is empty (0 bytes)"), "{run:?}");
    let json = t.run(&["failures", "--json"]).json();
    assert_eq!(json[0]["stage"], "decode");
    assert_eq!(json[0]["error_kind"], "empty");
}

#[test]
fn reading_commands_need_an_archive() {
    let t = TestDir::new();
    let run = t.run(&["search", "anything"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no archive at"), "{run:?}");
}
