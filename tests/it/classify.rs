//! Document types: filed with every document, shown, searchable by type, exported; and the
//! model trained from files and from operators' decisions.

use crate::harness::TestDir;

fn born_digital_archive() -> TestDir {
    let t = TestDir::new();
    t.put_fixture("samples/born-digital-progress.pdf", None);
    t.put_fixture("formats/pdf-text.pdf", None);
    t.put_fixture("formats/gray.png", None);
    assert_eq!(t.ingest().code, 0);
    t
}

#[test]
fn every_document_is_filed_under_a_type_with_a_confidence() {
    let t = born_digital_archive();
    let records = t.export();
    let progress = records
        .iter()
        .find(|r| r["source"] == "born-digital-progress.pdf")
        .unwrap();
    assert_eq!(progress["doc_type"], "progress_note");
    let confidence = progress["doc_type_confidence"].as_f64().unwrap();
    assert!(confidence > 0.5 && confidence <= 1.0, "{confidence}");

    // The fake OCR engine's sentence is not a document: unknown, and sent to review.
    let scan = records.iter().find(|r| r["source"] == "gray.png").unwrap();
    assert_eq!(scan["doc_type"], "unknown");
    let id = scan["id"].to_string();
    let shown = t.run(&["show", &id]);
    assert!(shown.stdout.contains("type        unknown"), "{shown:?}");
    assert!(
        shown.stdout.contains("review      doc_type: too little text"),
        "{shown:?}"
    );

    let id = progress["id"].to_string();
    let shown = t.run(&["show", &id, "--json"]).json();
    assert_eq!(shown["doc_type"], "progress_note");
    assert_eq!(shown["doc_type_source"], "machine");
    assert!(
        shown["doc_type_reason"]
            .as_str()
            .unwrap()
            .contains("title \"progress note\""),
        "{shown}"
    );
    assert!(shown["findings"].as_array().unwrap().is_empty());
}

#[test]
fn search_filters_by_type() {
    let t = born_digital_archive();
    let hits = t
        .run(&["search", "Nakamura", "--type", "progress_note", "--json"])
        .json();
    assert_eq!(hits.as_array().unwrap().len(), 3);
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .all(|h| h["doc_type"] == "progress_note")
    );
    let none = t
        .run(&["search", "Nakamura", "--type", "radiology_report", "--json"])
        .json();
    assert!(none.as_array().unwrap().is_empty());
    let bad = t.run(&["search", "Nakamura", "--type", "shopping_list"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("unknown type \"shopping_list\""), "{bad:?}");
}

fn write_examples(t: &TestDir) -> std::path::PathBuf {
    let kinds = [
        (
            "operative_report",
            "incision sutured hemostasis retractor laparoscopic port stapled",
        ),
        (
            "radiology_report",
            "axial contrast impression opacity radiograph sagittal lesion",
        ),
        (
            "progress_note",
            "subjective objective followup improving refill stable tolerating",
        ),
    ];
    let mut lines = String::new();
    for (label, words) in kinds {
        let words: Vec<&str> = words.split(' ').collect();
        for i in 0..15 {
            let text: Vec<&str> = (0..40).map(|j| words[(i * 5 + j * 3) % words.len()]).collect();
            lines.push_str(
                &serde_json::json!({"text": text.join(" "), "doc_type": label, "extra": 1}).to_string(),
            );
            lines.push('\n');
        }
    }
    let path = t.path().join("examples.jsonl");
    std::fs::write(&path, lines).unwrap();
    path
}

#[test]
fn train_installs_a_versioned_model_that_ingest_then_uses() {
    let t = TestDir::new();
    let examples = write_examples(&t);
    let run = t.run(&["train", "--from", examples.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("trained on 45 examples"), "{run:?}");
    assert!(run.stdout.contains("held-out accuracy 1.000"), "{run:?}");
    let models = t.archive().join("models");
    let current: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models.join("doctype.json")).unwrap()).unwrap();
    let version = current["version"].as_str().unwrap().to_string();
    assert!(models.join(format!("doctype-{version}.json")).is_file());
    assert_eq!(current["labels"].as_array().unwrap().len(), 3);

    t.put_fixture("formats/pdf-text.pdf", None);
    assert_eq!(t.ingest().code, 0);
    let conn = rusqlite::Connection::open(t.archive().join("chartscan.db")).unwrap();
    let used: String = conn
        .query_row("SELECT doc_type_model FROM documents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(used, version);
}

#[test]
fn train_from_the_archive_learns_what_operators_decided() {
    let t = born_digital_archive();
    let run = t.run(&["train", "--from-archive"]);
    assert_eq!(run.code, 2, "nothing confirmed yet: {run:?}");
    assert!(
        run.stderr
            .contains("no document in the archive has a type set or confirmed"),
        "{run:?}"
    );

    let conn = rusqlite::Connection::open(t.archive().join("chartscan.db")).unwrap();
    conn.execute(
        "UPDATE documents SET doc_type = 'consultation', doc_type_source = 'operator'
         WHERE file_id = (SELECT id FROM files WHERE source_name = 'pdf-text.pdf')",
        [],
    )
    .unwrap();
    let run = t.run(&["train", "--from-archive"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("trained on 1 examples"), "{run:?}");

    let shipped: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::harness::fixture("../config/doctype-model.json")).unwrap(),
    )
    .unwrap();
    let trained: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.archive().join("models/doctype.json")).unwrap())
            .unwrap();
    let docs = |model: &serde_json::Value| {
        let labels = model["labels"].as_array().unwrap();
        let at = labels.iter().position(|l| l == "consultation").unwrap();
        model["class_docs"][at].as_u64().unwrap()
    };
    assert_eq!(
        docs(&trained),
        docs(&shipped) + 1,
        "the operator's document is added to the shipped counts"
    );
}

#[test]
fn train_refuses_bad_examples() {
    let t = TestDir::new();
    let path = t.path().join("bad.jsonl");
    std::fs::write(&path, "{\"text\": \"x\", \"doc_type\": \"shopping_list\"}\n").unwrap();
    let run = t.run(&["train", "--from", path.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a type of the taxonomy"), "{run:?}");
    std::fs::write(&path, "not json\n").unwrap();
    let run = t.run(&["train", "--from", path.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("bad.jsonl:1"), "{run:?}");
}
