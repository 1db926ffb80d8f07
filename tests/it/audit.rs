//! The audit trail and the integrity check: every access is recorded without patient data, a
//! tampered audit row and a flipped byte in a stored original are both found.

use crate::harness::{TestDir, text_pdf};

fn archive_with_two_documents() -> TestDir {
    let t = TestDir::new();
    t.put(
        "a.pdf",
        &text_pdf(&["DISCHARGE SUMMARY", "Patient: Quill, Harriet  MRN: MR104233"]),
    );
    t.put(
        "b.pdf",
        &text_pdf(&["PROGRESS NOTE", "Patient: Ames, Rowan  MRN: MR550021"]),
    );
    assert_eq!(t.ingest().code, 0);
    t
}

fn audit_rows(t: &TestDir, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["audit", "list", "--json"];
    all.extend_from_slice(args);
    let run = t.run(&all);
    assert_eq!(run.code, 0, "{run:?}");
    run.json().as_array().unwrap().clone()
}

#[test]
fn ingest_show_search_and_export_are_audited_without_the_search_text() {
    let t = archive_with_two_documents();
    let ids: Vec<i64> = t.export().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(t.run(&["show", &ids[0].to_string()]).code, 0);
    assert_eq!(t.run(&["search", "Quill"]).code, 0);

    let rows = audit_rows(&t, &[]);
    let actions: Vec<&str> = rows.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["ingest", "ingest", "export", "show", "search"]);
    for row in &rows {
        assert!(!row["os_user"].as_str().unwrap().is_empty());
        let text = row.to_string();
        assert!(!text.contains("Quill") && !text.contains("MR104233"), "{text}");
    }
    assert!(rows[4]["detail"].as_str().unwrap().contains("query_sha256"));
    // Rows naming one document.
    let about_first = audit_rows(&t, &["--doc", &ids[0].to_string()]);
    assert!(about_first.iter().any(|r| r["action"] == "show"));
    assert!(about_first.iter().all(
        |r| r["action"] != "search" || r["document_ids"].as_str().unwrap().contains(&ids[0].to_string())
    ));

    let verify = t.run(&["audit", "verify"]);
    assert_eq!(verify.code, 0, "{verify:?}");
    assert!(verify.stdout.contains("intact"), "{verify:?}");
}

#[test]
fn an_edited_audit_row_is_refused_and_if_forced_detected() {
    let t = archive_with_two_documents();
    let conn = rusqlite::Connection::open(t.archive().join("chartscan.db")).unwrap();
    assert!(
        conn.execute("UPDATE audit SET os_user = 'someone-else' WHERE id = 1", [])
            .is_err()
    );
    assert!(conn.execute("DELETE FROM audit WHERE id = 1", []).is_err());
    // Someone with write access to the file drops the guard and edits a row.
    conn.execute_batch("DROP TRIGGER audit_no_update").unwrap();
    conn.execute("UPDATE audit SET os_user = 'someone-else' WHERE id = 1", [])
        .unwrap();
    drop(conn);
    let verify = t.run(&["audit", "verify"]);
    assert_eq!(verify.code, 1, "{verify:?}");
    assert!(verify.stdout.contains("row 1 was changed"), "{verify:?}");
}

#[test]
fn verify_finds_a_flipped_byte_in_a_stored_original() {
    let t = archive_with_two_documents();
    let clean = t.run(&["verify"]);
    assert_eq!(clean.code, 0, "{clean:?}");
    assert!(clean.stdout.contains("2 stored originals checked"), "{clean:?}");

    let sha = t.export()[0]["sha256"].as_str().unwrap().to_string();
    t.damage_stored_original(&sha);

    let broken = t.run(&["verify"]);
    assert_eq!(broken.code, 1, "{broken:?}");
    assert!(
        broken
            .stdout
            .contains(&format!("stored original {sha} does not match")),
        "{broken:?}"
    );
}

#[test]
fn the_review_queue_says_why_and_accepting_takes_a_document_off_it() {
    let t = TestDir::new();
    t.put(
        "anonymous.pdf",
        &text_pdf(&["PROGRESS NOTE", "Subjective: feeling better, no complaints."]),
    );
    assert_eq!(t.ingest().code, 0);
    let id = t.export()[0]["id"].as_i64().unwrap();
    let queue = t.run(&["review", "--json"]);
    assert_eq!(queue.code, 0, "{queue:?}");
    let items = queue.json();
    let item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["document_id"] == id)
        .unwrap();
    assert!(
        item["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "no patient found"),
        "{item}"
    );
    assert!(
        !item["reasons"].to_string().contains("doubtful"),
        "nothing was read, so nothing is doubtful: {item}"
    );

    // Unknown ids: a clear error, nothing changed.
    let unknown = t.run(&["review", "accept", "9999"]);
    assert_eq!(unknown.code, 2, "{unknown:?}");
    assert!(unknown.stderr.contains("no document 9999"), "{unknown:?}");

    assert_eq!(t.run(&["review", "accept", &id.to_string()]).code, 0);
    let after = t.run(&["review", "--json"]).json();
    assert!(
        after.as_array().unwrap().iter().all(|i| i["document_id"] != id),
        "{after}"
    );
    let again = t.run(&["review", "accept", &id.to_string()]);
    assert_eq!(again.code, 2, "{again:?}");
    let rows = audit_rows(&t, &["--doc", &id.to_string()]);
    assert!(rows.iter().any(|r| r["action"] == "review_accept"), "{rows:?}");
    assert_eq!(t.run(&["audit", "verify"]).code, 0);
}

#[test]
fn corrections_are_human_decisions_visible_at_once_and_bad_ones_change_nothing() {
    let t = archive_with_two_documents();
    let before = t.export();
    let id = before[0]["id"].as_i64().unwrap();
    let id_arg = id.to_string();

    for (args, message) in [
        (vec!["set", "9999", "--type", "progress_note"], "no document 9999"),
        (
            vec!["set", &id_arg, "--type", "horoscope"],
            "unknown type \"horoscope\"",
        ),
        (vec!["set", &id_arg], "nothing to set"),
    ] {
        let run = t.run(&args);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains(message), "{run:?}");
    }
    assert_eq!(t.export(), before, "a refused correction changes nothing");

    let run = t.run(&["set", &id_arg, "--type", "consultation", "--patient", "mr-777001"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("flagged for review"),
        "an MRN the index does not know: {run:?}"
    );
    let after = t.export();
    let record = after.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(record["doc_type"], "consultation");
    assert_eq!(record["doc_type_confidence"], 1.0);
    assert_eq!(record["patient"]["mrn"], "MR777001");
    let word = record["text"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let hits = t
        .run(&["search", &word, "--type", "consultation", "--json"])
        .json();
    assert!(
        hits.as_array().unwrap().iter().any(|h| h["document_id"] == id),
        "{hits}"
    );

    let conn = rusqlite::Connection::open(t.archive().join("chartscan.db")).unwrap();
    let decisions: Vec<(String, Option<String>, String, String)> = conn
        .prepare(
            "SELECT field, old_value, new_value, os_user FROM corrections WHERE document_id = ?1 ORDER BY id",
        )
        .unwrap()
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(decisions.len(), 2, "{decisions:?}");
    assert_eq!(decisions[0].0, "doc_type");
    assert_eq!(decisions[0].2, "consultation");
    let old_mrn = before[0]["patient"]["mrn"].as_str();
    assert_eq!(
        (decisions[1].1.as_deref(), decisions[1].2.as_str()),
        (old_mrn, "MR777001")
    );
    let reasons = t.run(&["review", "--json"]).json();
    let item = reasons
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["document_id"] == id)
        .unwrap();
    assert!(item["reasons"].to_string().contains("identifiers"), "{item}");
    // The audit names the field, never the value.
    let rows = audit_rows(&t, &["--doc", &id_arg]);
    assert!(rows.iter().any(|r| r["action"] == "correct"));
    assert!(!rows.iter().any(|r| r.to_string().contains("MR777001")));
}
