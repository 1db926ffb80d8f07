//! The few tests that run real Tesseract, on small synthetic pages: text comes out right for a
//! gray PNG, a scanned PDF and a CCITT page drawn sideways (black and white, so handed to
//! Tesseract one bit a pixel).

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

    // Re-indexing reads the stored words back and finds what ingest found.
    assert_eq!(t.run(&["reindex"]).code, 0);
    let again = t.export();
    for (before, after) in records.iter().zip(&again) {
        for field in ["patient", "doc_type", "first_page", "pages"] {
            assert_eq!(before[field], after[field], "{field} of {}", before["source"]);
        }
    }
}

#[test]
fn pages_upside_down_or_sideways_are_turned_upright_and_blank_pages_are_not_read() {
    let t = TestDir::with_tesseract();
    let page = image::open(crate::harness::fixture("samples/scan-lab.png"))
        .unwrap()
        .to_luma8();
    let save = |name: &str, image: &image::GrayImage| image.save(t.inbox().join(name)).unwrap();
    std::fs::create_dir_all(t.inbox()).unwrap();
    save("upside-down.png", &image::imageops::rotate180(&page));
    save("sideways.png", &image::imageops::rotate90(&page));
    let blank = image::GrayImage::from_pixel(1275, 1650, image::Luma([246]));
    save("blank.png", &blank);
    let run = t.ingest();
    assert_eq!(run.code, 0, "{run:?}");

    for (name, turned) in [("upside-down.png", 180), ("sideways.png", 270)] {
        let record = t.export().into_iter().find(|r| r["source"] == name).unwrap();
        let text = record["text"].as_str().unwrap();
        assert!(
            text.contains("LABORATORY REPORT") && text.contains("Hemoglobin"),
            "{name}: {text:?}"
        );
        let shown = t.run(&["show", &record["id"].to_string(), "--json"]).json();
        let page = &shown["page_texts"][0];
        assert_eq!(page["rotation"], turned, "{name}");
        assert_eq!(page["needs_rescan"], false, "{name}");
    }
    let blank = t
        .export()
        .into_iter()
        .find(|r| r["source"] == "blank.png")
        .unwrap();
    let shown = t.run(&["show", &blank["id"].to_string(), "--json"]).json();
    assert_eq!(shown["page_texts"][0]["blank"], true);
    assert_eq!(shown["page_texts"][0]["text"], "");
}
