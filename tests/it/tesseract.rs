//! The few tests that run real Tesseract, on small synthetic pages: text comes out right for a
//! gray PNG, a scanned PDF and a CCITT page drawn sideways.

use crate::harness::TestDir;

#[test]
fn real_ocr_reads_scans_and_files_them_searchably() {
    let t = TestDir::with_tesseract();
    t.put_fixture("samples/scan-lab.png", None);
    t.put_fixture("formats/pdf-ccitt-two-pages.pdf", None);
    let run = t.ingest();
    assert_eq!(run.code, 0, "{run:?}");

    let records = t.export();
    let lab = records.iter().find(|r| r["source"] == "scan-lab.png").unwrap();
    let text = lab["text"].as_str().unwrap();
    for expected in ["LABORATORY REPORT", "Hemoglobin", "Brandt, Oskar", "11/02/1971"] {
        assert!(text.contains(expected), "{expected:?} not in {text:?}");
    }
    assert!(lab["ocr_confidence"].as_f64().unwrap() > 80.0, "{lab}");

    let ccitt = records
        .iter()
        .find(|r| r["source"] == "pdf-ccitt-two-pages.pdf")
        .unwrap();
    let pages: Vec<&str> = ccitt["text"].as_str().unwrap().split('\u{c}').collect();
    assert_eq!(pages.len(), 2);
    for page in pages {
        assert!(
            page.contains("SPECIMEN LABEL") && page.contains("Glucose"),
            "{page:?}"
        );
    }

    let hits = t.run(&["search", "platelets", "--json"]).json();
    assert_eq!(hits[0]["source"], "scan-lab.png");
}
