//! Living in the archive from the command line: `reindex` (a patient index loaded after filing
//! matches the orphans, a dry run changes nothing, bad selections are clear errors), an
//! operator's `set --split-at` and `--merge`, and `purge`.

use crate::harness::{TestDir, text_pdf};
use crate::patients::FIRST_A as LETTER;

#[test]
fn an_index_loaded_later_matches_on_reindex_and_a_dry_run_changes_nothing() {
    let t = TestDir::new();
    t.put("a.pdf", &text_pdf(&[LETTER]));
    assert_eq!(t.ingest().code, 0);
    let matched = || t.run(&["show", "1", "--json"]).json()["patient_match"].clone();
    assert!(matched().is_null());
    let csv = t.path().join("patients.csv");
    std::fs::write(&csv, "mrn,last,first,dob\n448213,Walsh,Petra,1958-03-14\n").unwrap();
    assert_eq!(t.run(&["patients", "import", csv.to_str().unwrap()]).code, 0);

    let dry = t.run(&["reindex", "--dry-run"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stdout.contains("(index: none -> mrn)"), "{dry:?}");
    assert!(
        dry.stdout.contains("dry run, nothing changed: 1 files"),
        "{dry:?}"
    );
    assert!(matched().is_null(), "the dry run wrote nothing");

    let run = t.run(&["reindex", "--where", "discharge_summary", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let report = run.json();
    assert_eq!(report["newly_matched"], 1, "{report}");
    assert_eq!(matched(), "mrn");
    assert_eq!(t.export()[0]["patient_match"], "mrn", "the export says so too");
    let audit = t.run(&["audit", "list", "--json"]).json();
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["action"] == "reindex"),
        "{audit}"
    );
    assert_eq!(t.run(&["audit", "verify"]).code, 0);
}

#[test]
fn bad_selections_are_clear_errors_and_change_nothing() {
    let t = TestDir::new();
    t.put("a.pdf", &text_pdf(&[LETTER]));
    assert_eq!(t.ingest().code, 0);
    let before = t.export();
    for (args, expected) in [
        (vec!["reindex", "--ids", "1,77"], "no document 77"),
        (vec!["reindex", "--where", "love_letter"], "love_letter"),
        (vec!["reindex", "--since", "last tuesday"], "YYYY-MM-DD"),
        (vec!["reindex", "--mrn", "--"], "MRN"),
    ] {
        let run = t.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(expected), "{args:?}: {run:?}");
    }
    assert_eq!(t.export(), before);
}

const SECOND_PAGE: &str = "WALSH, PETRA   MRN: 448213   Page 2 of 3
DISCHARGE MEDICATIONS: Amoxicillin 875 mg twice daily for five days.
FOLLOW-UP: Primary care clinic in one week.";
const THIRD_PAGE: &str = "WALSH, PETRA   MRN: 448213   Page 3 of 3
DIET: Regular. ACTIVITY: As tolerated. She understands the instructions and agrees with the plan.";

#[test]
fn an_operator_split_is_filed_audited_and_kept_by_reindex() {
    let t = TestDir::new();
    t.put("a.pdf", &text_pdf(&[LETTER, SECOND_PAGE, THIRD_PAGE]));
    assert_eq!(t.ingest().code, 0);
    let before = t.export();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0]["pages"], 3);

    for (page, expected) in [
        ("1", "pages 2 to 3"),
        ("4", "pages 2 to 3"),
        ("0", "pages 2 to 3"),
    ] {
        let run = t.run(&["set", "1", "--split-at", page]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains(expected), "{run:?}");
    }
    let run = t.run(&["set", "1", "--split-at", "3", "--type", "horoscope"]);
    assert_eq!(run.code, 2, "a bad type refuses the whole command: {run:?}");
    assert_eq!(t.export(), before, "refused corrections change nothing");

    let run = t.run(&["set", "1", "--split-at", "3"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("split pages 1-3 -> pages 1-2 and 3-3 (document 2)"),
        "{run:?}"
    );
    let after = t.export();
    let spans: Vec<(i64, i64)> = after
        .iter()
        .map(|r| (r["first_page"].as_i64().unwrap(), r["pages"].as_i64().unwrap()))
        .collect();
    assert_eq!(spans, vec![(1, 2), (3, 1)]);
    assert_eq!(
        after[1]["patient"]["mrn"], "448213",
        "the new document keeps the patient"
    );
    assert!(after[1]["text"].as_str().unwrap().contains("DIET: Regular"));
    let hits = t.run(&["search", "DIET", "--json"]).json();
    assert_eq!(hits[0]["document_id"], 2);

    let run = t.run(&["reindex", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["resplit_files"], 0);
    assert_eq!(t.export().len(), 2, "re-indexing keeps the operator's split");
    assert_eq!(t.run(&["audit", "verify"]).code, 0);
}

#[test]
fn neighbouring_documents_merge_and_others_are_refused() {
    let t = TestDir::new();
    t.put("a.pdf", &text_pdf(&[LETTER, SECOND_PAGE, THIRD_PAGE]));
    t.put("b.pdf", &text_pdf(&[LETTER.replace("Visit", "Stay").as_str()]));
    assert_eq!(t.ingest().code, 0);
    let of_a = |t: &TestDir| -> Vec<String> {
        t.export()
            .iter()
            .filter(|r| r["source"] == "a.pdf")
            .map(|r| r["id"].to_string())
            .collect()
    };
    let whole = of_a(&t)[0].clone();
    assert_eq!(t.run(&["set", &whole, "--split-at", "2"]).code, 0);
    let second = of_a(&t)[1].clone();
    assert_eq!(t.run(&["set", &second, "--split-at", "2"]).code, 0);
    let ids: Vec<(String, i64, i64, i64)> = t
        .export()
        .iter()
        .map(|r| {
            (
                r["source"].as_str().unwrap().to_string(),
                r["id"].as_i64().unwrap(),
                r["first_page"].as_i64().unwrap(),
                r["pages"].as_i64().unwrap(),
            )
        })
        .collect();
    let a: Vec<&(String, i64, i64, i64)> = ids.iter().filter(|r| r.0 == "a.pdf").collect();
    assert_eq!(a.len(), 3, "{ids:?}");
    let other_file = ids.iter().find(|r| r.0 == "b.pdf").unwrap().1;
    let before = t.export();
    for (args, expected) in [
        (vec!["set", &whole, "--merge", &whole], "itself"),
        (vec!["set", &whole, "--merge", "999"], "no document 999"),
        (
            vec!["set", &whole, "--merge", "1", "--split-at", "2"],
            "cannot be used with",
        ),
    ] {
        let run = t.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(expected), "{args:?}: {run:?}");
    }
    let (first, middle, last) = (a[0].1.to_string(), a[1].1.to_string(), a[2].1.to_string());
    let run = t.run(&["set", &first, "--merge", &other_file.to_string()]);
    assert!(run.code == 2 && run.stderr.contains("different files"), "{run:?}");
    let run = t.run(&["set", &first, "--merge", &last]);
    assert!(
        run.code == 2 && run.stderr.contains("not next to each other"),
        "{run:?}"
    );
    assert_eq!(t.export(), before, "refused merges change nothing");

    // A wrong split undone: the last piece merges back into the middle one.
    let run = t.run(&["set", &middle, "--merge", &last]);
    assert_eq!(run.code, 0, "{run:?}");
    let spans: Vec<(i64, i64)> = t
        .export()
        .iter()
        .filter(|r| r["source"] == "a.pdf")
        .map(|r| (r["first_page"].as_i64().unwrap(), r["pages"].as_i64().unwrap()))
        .collect();
    assert_eq!(spans, vec![(1, 1), (2, 2)]);
    let hits = t.run(&["search", "DIET", "--json"]).json();
    assert_eq!(hits[0]["document_id"].to_string(), middle);
    assert_eq!(t.run(&["audit", "verify"]).code, 0);
}

#[test]
fn a_purge_takes_the_whole_file_after_asking_and_is_audited() {
    let t = TestDir::new();
    t.put("a.pdf", &text_pdf(&[LETTER, SECOND_PAGE, THIRD_PAGE]));
    t.put("b.pdf", &text_pdf(&[LETTER.replace("Visit", "Stay").as_str()]));
    assert_eq!(t.ingest().code, 0);
    let a = t.export().into_iter().find(|r| r["source"] == "a.pdf").unwrap();
    let (id, sha) = (a["id"].to_string(), a["sha256"].as_str().unwrap().to_string());
    let object = t.stored_original(&sha);
    assert!(object.is_file());

    let ask = t.run(&["purge", &id]);
    assert_eq!(ask.code, 0, "{ask:?}");
    assert!(ask.stdout.contains("nothing changed (add --yes)"), "{ask:?}");
    assert_eq!(t.export().len(), 2);
    assert_eq!(t.run(&["purge", "999", "--yes"]).code, 2);

    let run = t.run(&["purge", &id, "--yes"]);
    assert_eq!(run.code, 0, "{run:?}");
    let left = t.export();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["source"], "b.pdf");
    assert!(!object.exists(), "the original is gone");
    assert!(
        t.run(&["search", "DIET", "--json"])
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(t.run(&["verify"]).code, 0, "the archive is consistent without it");
    assert_eq!(t.run(&["audit", "verify"]).code, 0);
    let audit = t.run(&["audit", "list", "--json"]).json();
    assert!(
        audit.as_array().unwrap().iter().any(|r| r["action"] == "purge"),
        "{audit}"
    );
}

/// The one page's text of document `id`, from `show`.
fn page_text(t: &TestDir, id: &str) -> String {
    let shown = t.run(&["show", id, "--json"]).json();
    shown["page_texts"][0]["text"].as_str().unwrap().to_string()
}

#[test]
fn reindex_ocr_reads_the_originals_again_and_leaves_a_damaged_one_alone() {
    let t = TestDir::new();
    t.put_fixture("samples/scan-lab.png", Some("1-scan.png"));
    t.put("2-letter.pdf", &text_pdf(&[LETTER]));
    t.put_fixture("samples/scan-referral.jpg", Some("3-scan.jpg"));
    assert_eq!(t.ingest().code, 0);
    let mut exported = t.export();
    exported.sort_by_key(|d| d["source"].as_str().unwrap().to_string());
    let ids: Vec<String> = exported.iter().map(|d| d["id"].to_string()).collect();
    let before: Vec<String> = ids.iter().map(|id| page_text(&t, id)).collect();
    assert!(before[0].contains("at 300 dpi"), "{before:?}");

    // Page clean-up now scales every scan to 400 dpi: the fake engine reads them differently.
    std::fs::write(
        t.path().join("chartscan.toml"),
        "[ocr]\nengine = \"fake\"\n[ingest]\njobs = 2\n[preprocess]\nmin_dpi = 350\ntarget_dpi = 400\nmax_dpi = 500\n",
    )
    .unwrap();
    let plain = t.run(&["reindex", "--json"]).json();
    assert_eq!(
        plain["pages_read"], 0,
        "without --ocr the stored text is used: {plain}"
    );

    let dry = t.run(&["reindex", "--ocr", "--dry-run", "--json"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    let report = dry.json();
    assert_eq!(
        (report["pages_read"].clone(), report["pages_changed"].clone()),
        (3.into(), 2.into()),
        "{report}"
    );
    let unchanged: Vec<String> = ids.iter().map(|id| page_text(&t, id)).collect();
    assert_eq!(unchanged, before, "the dry run wrote nothing");

    // The third file's stored original is damaged: it is reported and left as it was.
    let sha = exported[2]["sha256"].as_str().unwrap().to_string();
    t.damage_stored_original(&sha);

    let run = t.run(&["reindex", "--ocr"]);
    assert_eq!(run.code, 1, "a file could not be read again: {run:?}");
    assert!(
        run.stdout.contains("does not match its recorded SHA-256"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("2 pages read again, 1 read differently; 1 files"),
        "{run:?}"
    );
    let after: Vec<String> = ids.iter().map(|id| page_text(&t, id)).collect();
    assert!(after[0].contains("at 400 dpi"), "{after:?}");
    assert_eq!(after[1], before[1], "a text layer reads the same");
    assert_eq!(after[2], before[2], "the damaged file is untouched");
    let hits = t.run(&["search", "400", "--json"]).json();
    assert_eq!(
        hits.as_array().unwrap().len(),
        1,
        "the new text is searchable: {hits}"
    );
    let old_hits = t.run(&["search", "200", "--json"]).json();
    assert_eq!(
        old_hits.as_array().unwrap().len(),
        1,
        "only the untouched scan: {old_hits}"
    );
    assert_eq!(t.run(&["audit", "verify"]).code, 0);
}

#[test]
fn reindex_ocr_leaves_a_file_alone_that_now_reads_as_cover_sheets_only() {
    // Filed when the page clean-up took the cover sheet for a blank page: no barcode looked for,
    // one page of content.
    let t = TestDir::new();
    t.put("sheet.png", &scanned_cover_sheet(&t));
    let config = t.path().join("chartscan.toml");
    let defaults = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{defaults}[preprocess]\nblank_ink_permille = 900.0\n"),
    )
    .unwrap();
    let ingest = t.ingest();
    assert_eq!(ingest.code, 0, "{ingest:?} {:?}", t.failures());
    let before = t.export();
    assert_eq!(before.len(), 1, "{before:?}");

    // Read again with the default clean-up, the page is a cover sheet and nothing is left to
    // file: the file stays as it was, and the run says so.
    std::fs::write(&config, defaults).unwrap();
    let run = t.run(&["reindex", "--ocr"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("only cover sheets"), "{run:?}");
    assert_eq!(t.export(), before);
    assert_eq!(t.run(&["verify"]).code, 0);
}

/// A cover sheet as a scanner gives it: its barcode on a white 300 dpi page, as PNG.
fn scanned_cover_sheet(t: &TestDir) -> Vec<u8> {
    let pdf = t.path().join("sheet.pdf");
    let run = t.run(&["cover-sheet", "--mrn", "702-519", "-o", pdf.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = lopdf::Document::load(&pdf).unwrap();
    let image = doc.get_page_images(doc.get_pages()[&1]).unwrap().remove(0);
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(image.content), &mut raw).unwrap();
    let code = image::GrayImage::from_raw(image.width as u32, image.height as u32, raw).unwrap();
    let mut page = image::GrayImage::from_pixel(2550, 3300, image::Luma([255]));
    image::imageops::overlay(&mut page, &code, 300, 900);
    let mut png = Vec::new();
    page.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}
