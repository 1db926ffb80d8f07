//! Patient identifiers, the patient index, cover sheets and splitting batch scans, through the
//! whole pipeline (born-digital pages, so no OCR is involved).

use crate::harness::{TestDir, text_pdf};

pub(crate) const FIRST_A: &str = "RIVERBEND COMMUNITY HOSPITAL
12 Mill Race Rd, Riverbend, NE 68001  Tel (402) 555-0100
PATIENT: WALSH, PETRA    MRN: 448-213    DOB: 03/14/1958
Admit Date: 09/02/2026
DISCHARGE SUMMARY
HOSPITAL COURSE: The patient was admitted with community-acquired pneumonia and treated with
intravenous ceftriaxone and azithromycin. She improved steadily and was discharged home.";
const NEXT_A: &str = "Petra Walsh   MRN: 448213   Date of Birth: 03/14/1958   Page 2 of 2
DISCHARGE MEDICATIONS: Amoxicillin 875 mg twice daily for five days.
FOLLOW-UP: Primary care clinic in one week.";
const FIRST_B: &str = "LAKESHORE CLINIC
88 Shore Dr, Lakeside, NE 68002  Tel (402) 555-0111
Name: Brandt, Oskar     DOB: 11/02/1971     MRN: 702519
PROGRESS NOTE
SUBJECTIVE: Feeling better, cough resolved, no fever. Blood pressure 122/78.
PLAN: Continue current medicines and return in three months.";

const LAB_A: &str = "RIVERBEND COMMUNITY HOSPITAL
12 Mill Race Rd, Riverbend, NE 68001  Tel (402) 555-0100
PATIENT: WALSH, PETRA    MRN: 448-213    DOB: 03/14/1958
Collected: 09/03/2026 08:12   Specimen: Blood   Status: Final
LABORATORY REPORT
Test                      Result   Units      Reference range
Hemoglobin                13.9     g/dL       12.0 - 15.5
Leukocytes                7.2      10*3/uL    4.5 - 11.0
Sodium                    139      mmol/L     135 - 145";

fn patient(record: &serde_json::Value) -> (String, String, String, String) {
    let p = &record["patient"];
    let s = |k: &str| p[k].as_str().unwrap_or("").to_string();
    (s("mrn"), s("last"), s("first"), s("dob"))
}

fn tuple(mrn: &str, last: &str, first: &str, dob: &str) -> (String, String, String, String) {
    (mrn.into(), last.into(), first.into(), dob.into())
}

#[test]
fn identifiers_are_read_filed_shown_and_searchable() {
    let t = TestDir::new();
    t.put("a.pdf", &text_pdf(&[FIRST_A, NEXT_A]));
    assert_eq!(t.ingest().code, 0);
    let records = t.export();
    assert_eq!(records.len(), 1);
    assert_eq!(
        patient(&records[0]),
        tuple("448213", "Walsh", "Petra", "1958-03-14")
    );
    assert_eq!(records[0]["doc_type"], "discharge_summary");

    let id = records[0]["id"].to_string();
    let shown = t.run(&["show", &id]);
    assert!(
        shown
            .stdout
            .contains("patient     Walsh, Petra  MRN 448213  DOB 1958-03-14"),
        "{shown:?}"
    );
    let json = t.run(&["show", &id, "--json"]).json();
    assert_eq!(json["patient_source"], "machine");
    assert!(json["patient_match"].is_null(), "no index loaded");

    let hits = t
        .run(&["search", "pneumonia", "--mrn", "448-213", "--json"])
        .json();
    assert_eq!(hits.as_array().unwrap().len(), 1);
    let none = t
        .run(&["search", "pneumonia", "--mrn", "702519", "--json"])
        .json();
    assert!(none.as_array().unwrap().is_empty());
}

#[test]
fn a_batch_scan_splits_where_the_patient_changes_and_at_new_first_pages() {
    let t = TestDir::new();
    // A's two pages, B's note, then a second document of A's (a new first page).
    t.put("batch.pdf", &text_pdf(&[FIRST_A, NEXT_A, FIRST_B, LAB_A]));
    assert_eq!(t.ingest().code, 0);
    let mut records = t.export();
    records.sort_by_key(|r| r["first_page"].as_u64());
    let spans: Vec<(u64, u64)> = records
        .iter()
        .map(|r| (r["first_page"].as_u64().unwrap(), r["pages"].as_u64().unwrap()))
        .collect();
    assert_eq!(spans, [(1, 2), (3, 1), (4, 1)]);
    assert_eq!(patient(&records[0]).0, "448213");
    assert_eq!(
        patient(&records[1]),
        tuple("702519", "Brandt", "Oskar", "1971-11-02")
    );
    assert_eq!(patient(&records[2]).0, "448213");
    assert_eq!(records[1]["doc_type"], "progress_note");
    assert_eq!(records[2]["doc_type"], "lab_report");
}

#[test]
fn cover_sheets_start_documents_supply_their_values_and_are_not_filed() {
    let t = TestDir::new();
    let sheet = t.path().join("sheet.pdf");
    let run = t.run(&[
        "cover-sheet",
        "--mrn",
        "702-519",
        "--type",
        "referral_letter",
        "-o",
        sheet.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let separator = t.path().join("separator.pdf");
    assert_eq!(
        t.run(&[
            "cover-sheet",
            "--barcode",
            "datamatrix",
            "-o",
            separator.to_str().unwrap()
        ])
        .code,
        0
    );
    let body = t.path().join("body.pdf");
    std::fs::write(
        &body,
        text_pdf(&[
            "Dear Dr. Reyes,\nThank you for seeing this pleasant patient.",
            "Sincerely,\nDr. Ines Okafor",
        ]),
    )
    .unwrap();
    let second = t.path().join("second.pdf");
    std::fs::write(&second, text_pdf(&[FIRST_A])).unwrap();
    let batch = t.inbox().join("batch.pdf");
    let status = std::process::Command::new("pdfunite")
        .args([&sheet, &body, &separator, &second, &batch])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(t.ingest().code, 0);

    let mut records = t.export();
    records.sort_by_key(|r| r["first_page"].as_u64());
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(
        (records[0]["first_page"].as_u64(), records[0]["pages"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(records[0]["doc_type"], "referral_letter");
    assert_eq!(records[0]["doc_type_confidence"], 1.0);
    assert_eq!(patient(&records[0]).0, "702519");
    assert_eq!(
        (records[1]["first_page"].as_u64(), records[1]["pages"].as_u64()),
        (Some(5), Some(1))
    );
    assert_eq!(patient(&records[1]).0, "448213");
    for record in &records {
        assert!(
            !record["text"].as_str().unwrap().contains("COVER SHEET"),
            "the sheet is not content"
        );
    }
    let conn = rusqlite::Connection::open(t.archive().join("chartscan.db")).unwrap();
    let covers: i64 = conn
        .query_row("SELECT count(*) FROM cover_sheets", [], |r| r.get(0))
        .unwrap();
    let pages: i64 = conn
        .query_row("SELECT count(*) FROM pages", [], |r| r.get(0))
        .unwrap();
    let file_pages: i64 = conn
        .query_row("SELECT n_pages FROM files", [], |r| r.get(0))
        .unwrap();
    assert_eq!((covers, pages, file_pages), (2, 3, 5));
    let source: String = conn
        .query_row(
            "SELECT patient_source FROM documents WHERE first_page = 2",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(source, "cover_sheet");
}

#[test]
fn a_file_of_cover_sheets_only_is_refused_with_its_reason() {
    let t = TestDir::new();
    let sheet = t.inbox().join("sheet.pdf");
    let run = t.run(&["cover-sheet", "--mrn", "702-519", "-o", sheet.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    let ingest = t.ingest();
    assert_eq!(ingest.code, 1, "{ingest:?}");
    assert!(t.export().is_empty());
    let failures = t.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].1.contains("only cover sheets"), "{failures:?}");
}

fn write_index(t: &TestDir, rows: &str) -> std::path::PathBuf {
    let path = t.path().join("patients.csv");
    std::fs::write(&path, format!("mrn,last,first,dob,sex,aliases\n{rows}")).unwrap();
    path
}

#[test]
fn the_patient_index_imports_updates_and_refuses_bad_rows() {
    let t = TestDir::new();
    let csv = write_index(
        &t,
        "448-213,Walsh,Petra,1958-03-14,F,\n702519,Brandt,Oskar,11/02/1971,M,\"Brant, Oskar\"\n",
    );
    let run = t.run(&["patients", "import", csv.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("patients: 2 added, 0 updated, 0 unchanged, 0 refused"),
        "{run:?}"
    );

    let csv = write_index(
        &t,
        "448213,Walsh,Petra,1958-03-15,F,\n702519,Brandt,Oskar,1971-11-02,M,\"Brant, Oskar\"\n,Nobody,Here,1990-01-01,,\n999,Future,Child,2099-01-01,,\n",
    );
    let run = t.run(&["patients", "import", csv.to_str().unwrap()]);
    assert_eq!(run.code, 1, "refused rows make the import exit 1: {run:?}");
    assert!(
        run.stdout
            .contains("patients: 0 added, 1 updated, 1 unchanged, 2 refused"),
        "{run:?}"
    );
    assert!(run.stdout.contains("refused line 4: no MRN"), "{run:?}");
    assert!(
        run.stdout
            .contains("refused line 5: the date of birth is in the future"),
        "{run:?}"
    );
}

#[test]
fn documents_are_matched_to_the_index_or_sent_to_review_as_orphans() {
    let t = TestDir::new();
    let csv = write_index(
        &t,
        "448213,Walsh,Petra,1958-03-14,F,\n702519,Brandt,Oskar,1971-11-02,M,\n",
    );
    assert_eq!(t.run(&["patients", "import", csv.to_str().unwrap()]).code, 0);
    // A matches by MRN; B's MRN is misread by one character; C is not in the index; D has
    // no MRN at all but name and birth date; E contradicts the index; F's MRN and birth date
    // faded to `7025..` and `11/02`, which fit only Oskar Brandt; G is F with a name no one has.
    let b = FIRST_B.replace("702519", "702579");
    let c = FIRST_B
        .replace("702519", "555000")
        .replace("Brandt, Oskar", "Stone, Ada")
        .replace("11/02/1971", "01/01/1990");
    let d = FIRST_B.replace("     MRN: 702519", "");
    let e = FIRST_A.replace("03/14/1958", "03/14/1960");
    let f = FIRST_B.replace("702519", "7025..").replace("11/02/1971", "11/02");
    let g = f.replace("Brandt, Oskar", "Brandt, Konrad");
    for (name, text) in [
        ("a.pdf", FIRST_A.to_string()),
        ("b.pdf", b),
        ("c.pdf", c),
        ("d.pdf", d),
        ("e.pdf", e),
        ("f.pdf", f),
        ("g.pdf", g),
    ] {
        t.put(name, &text_pdf(&[&text]));
    }
    assert_eq!(t.ingest().code, 0);
    let conn = rusqlite::Connection::open(t.archive().join("chartscan.db")).unwrap();
    let matched = |source: &str| -> (Option<String>, Option<String>) {
        conn.query_row(
            "SELECT d.patient_match, d.patient_mrn FROM documents d JOIN files f ON f.id = d.file_id WHERE f.source_name = ?1",
            [source],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert_eq!(matched("a.pdf"), (Some("mrn".into()), Some("448213".into())));
    assert_eq!(
        matched("b.pdf"),
        (Some("mrn_ocr_name_dob".into()), Some("702519".into()))
    );
    assert_eq!(matched("c.pdf").0.as_deref(), Some("orphan"));
    assert_eq!(matched("d.pdf"), (Some("name_dob".into()), Some("702519".into())));
    assert_eq!(matched("e.pdf").0.as_deref(), Some("orphan"));
    assert_eq!(
        matched("f.pdf"),
        (Some("name_partial_ids".into()), Some("702519".into()))
    );
    assert_eq!(matched("g.pdf"), (Some("orphan".into()), None));
    let finding = |source: &str, kind: &str| -> String {
        conn.query_row(
            "SELECT x.detail FROM findings x JOIN documents d ON d.id = x.document_id JOIN files f ON f.id = d.file_id
             WHERE f.source_name = ?1 AND x.kind = ?2",
            [source, kind],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert!(finding("e.pdf", "orphan").contains("another date of birth"));
    assert!(finding("f.pdf", "patient").contains("confirm against the page"));
    assert!(finding("g.pdf", "orphan").contains("no patient in the index has this name"));
}

#[test]
fn without_an_index_a_faded_label_is_filled_in_from_the_one_patient_of_its_name_filed() {
    let t = TestDir::new();
    let faded = |body: &str| {
        FIRST_B
            .replace("702519", "7025..")
            .replace("11/02/1971", "11/02")
            .replace("Blood pressure 122/78.", body)
    };
    let konrad = faded("Pulse 70.").replace("Brandt, Oskar", "Brandt, Konrad");
    let conn = || rusqlite::Connection::open(t.archive().join("chartscan.db")).unwrap();
    let patient = |source: &str| -> (Option<String>, Option<String>, Option<String>, String) {
        conn()
            .query_row(
                "SELECT d.patient_match, d.patient_mrn, d.patient_dob, d.patient_source FROM documents d
                 JOIN files f ON f.id = d.file_id WHERE f.source_name = ?1",
                [source],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap()
    };
    let filled = (
        Some("archive_name_partial_ids".to_string()),
        Some("702519".to_string()),
        Some("1971-11-02".to_string()),
        "machine".to_string(),
    );

    // Filed before any clear document of Oskar Brandt: nothing to fill it in from.
    t.put("faded.pdf", &text_pdf(&[&faded("Pulse 64.")]));
    t.put("konrad.pdf", &text_pdf(&[&konrad]));
    assert_eq!(t.ingest().code, 0);
    assert_eq!(patient("faded.pdf").1, None);
    // Once one is filed, re-indexing fills it in (and says so apart from index matches); the
    // name no clear document carries stays unfilled.
    t.put("clear.pdf", &text_pdf(&[FIRST_B]));
    assert_eq!(t.ingest().code, 0);
    let run = t.run(&["reindex", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let report = run.json();
    assert_eq!(report["filled_from_archive"], 1, "{report}");
    assert_eq!(report["newly_matched"], 0, "{report}");
    assert_eq!(patient("faded.pdf"), filled);
    assert_eq!(patient("konrad.pdf").1, None);
    // Filed after it, a faded label is filled in at once, with a finding for a person.
    t.put("faded-again.pdf", &text_pdf(&[&faded("Pulse 72.")]));
    assert_eq!(t.ingest().code, 0);
    assert_eq!(patient("faded-again.pdf"), filled);
    let finding: String = conn()
        .query_row(
            "SELECT x.detail FROM findings x JOIN documents d ON d.id = x.document_id
             JOIN files f ON f.id = d.file_id WHERE f.source_name = 'faded-again.pdf'
             AND x.kind = 'patient' AND x.detail LIKE '%other documents%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(finding.contains("confirm against the page"), "{finding}");

    // A namesake whom the remains fit as well makes it a person's call: re-indexing withdraws
    // both fillings-in.
    let namesake = FIRST_B
        .replace("702519", "702588")
        .replace("Blood pressure 122/78.", "Pulse 80.");
    t.put("namesake.pdf", &text_pdf(&[&namesake]));
    assert_eq!(t.ingest().code, 0);
    assert_eq!(t.run(&["reindex"]).code, 0);
    assert_eq!(patient("faded.pdf").1, None);
    assert_eq!(patient("faded-again.pdf").1, None);
}

#[test]
fn doubtful_identifiers_are_findings_and_nulls_never_guesses() {
    let t = TestDir::with_config(
        "[ocr]\nengine = \"fake\"\n[identify]\nmrn_check_digit = \"luhn\"\nmrn_formats = ['^[0-9]{11}$']\n",
    );
    const BODY: &str =
        "The patient is seen for follow-up of hypertension; blood pressure is well controlled.";
    let cases = [
        (
            "none.pdf",
            "The abdomen is soft and nontender.\nBowel sounds are present in all four quadrants.",
            "no patient identifiers found",
        ),
        (
            "check.pdf",
            "PATIENT: ROE, JANE  MRN: 7992739871-0  DOB: 01/02/1980",
            "fails its check digit",
        ),
        (
            "impossible.pdf",
            "PATIENT: ROE, JANE  MRN: 7992739871-3  DOB: 02/30/1980",
            "not a real date",
        ),
        (
            "future.pdf",
            "PATIENT: ROE, JANE  MRN: 7992739871-3  DOB: 01/01/2099",
            "in the future",
        ),
        (
            "fax.pdf",
            "11/02/2024 14:32 FAX 4025550128  CRETE MED  MRN 79927398713  P.001/003",
            "fax header",
        ),
    ];
    for (name, text, _) in &cases {
        t.put(name, &text_pdf(&[&format!("{text}\n{BODY}")]));
    }
    assert_eq!(t.ingest().code, 0);
    let conn = rusqlite::Connection::open(t.archive().join("chartscan.db")).unwrap();
    for (name, _, expected) in &cases {
        let details: Vec<String> = conn
            .prepare(
                "SELECT x.detail FROM findings x JOIN documents d ON d.id = x.document_id JOIN files f ON f.id = d.file_id
                 WHERE f.source_name = ?1",
            )
            .unwrap()
            .query_map([name], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            details.iter().any(|d| d.contains(expected)),
            "{name}: {details:?}"
        );
    }
    let dob: Option<String> = conn
        .query_row(
            "SELECT d.patient_dob FROM documents d JOIN files f ON f.id = d.file_id WHERE f.source_name = 'impossible.pdf'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dob, None);
}
