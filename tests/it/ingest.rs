//! Ingest with the fake OCR engine: every container and compression, duplicates, the stored
//! originals and the archive's settings.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;

use crate::harness::{TestDir, fixture};

const GOOD_FORMATS: &[(&str, u64)] = &[
    ("bilevel.png", 1),
    ("gray.png", 1),
    ("rgb.jpg", 1),
    ("multi-raw.tif", 3),
    ("multi-lzw.tif", 3),
    ("multi-jpeg.tif", 3),
    ("multi-g4.tif", 3),
    ("g3-1d.tif", 1),
    ("g3-2d.tif", 1),
    ("huffman.tif", 1),
    ("fax-standard.tif", 1),
    ("palette.tif", 1),
    ("cmyk.tif", 1),
    ("pdf-dct.pdf", 1),
    ("pdf-cmyk-dct.pdf", 1),
    ("pdf-flate-gray.pdf", 1),
    ("pdf-flate-1bit-predictor.pdf", 1),
    ("pdf-ccitt-two-pages.pdf", 2),
    ("pdf-text.pdf", 2),
    ("pdf-vector.pdf", 1),
    ("pdf-owner-password.pdf", 1),
];

fn by_source(records: Vec<serde_json::Value>) -> HashMap<String, serde_json::Value> {
    records
        .into_iter()
        .map(|r| (r["source"].as_str().unwrap().to_string(), r))
        .collect()
}

/// The fake engine's digest of a page's pixels ("... digest 1a2b3c4d").
fn digest(page_text: &str) -> &str {
    page_text.rsplit("digest ").next().unwrap().trim()
}

#[test]
fn every_format_is_filed_with_all_its_pages() {
    let t = TestDir::new();
    for (name, _) in GOOD_FORMATS {
        t.put_fixture(&format!("formats/{name}"), None);
    }
    let run = t.ingest();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "from {} files, 0 duplicates, 0 failed",
            GOOD_FORMATS.len()
        )),
        "{run:?}"
    );

    let records = by_source(t.export());
    assert_eq!(records.len(), GOOD_FORMATS.len());
    for (name, n_pages) in GOOD_FORMATS {
        let record = &records[*name];
        assert_eq!(record["pages"], *n_pages, "{name}");
        assert_eq!(record["first_page"], 1, "{name}");
        let texts: Vec<&str> = record["text"].as_str().unwrap().split('\u{c}').collect();
        assert_eq!(
            texts.len() as u64,
            *n_pages,
            "{name}: one text per page, form-feed separated"
        );
    }
}

#[test]
fn the_same_page_decodes_to_the_same_pixels_in_every_container() {
    let t = TestDir::new();
    for (name, _) in GOOD_FORMATS {
        t.put_fixture(&format!("formats/{name}"), None);
    }
    assert_eq!(t.ingest().code, 0);
    let records = by_source(t.export());
    let first_page = |name: &str| {
        let text = records[name]["text"].as_str().unwrap();
        digest(text.split('\u{c}').next().unwrap()).to_string()
    };
    // Lossless gray: PNG, LZW TIFF and a Flate image in a PDF.
    assert_eq!(first_page("gray.png"), first_page("multi-lzw.tif"));
    assert_eq!(first_page("gray.png"), first_page("pdf-flate-gray.pdf"));
    // Bilevel: PNG, uncompressed, G4, fax G3 (1-D and 2-D) and modified Huffman TIFF, a 1-bit
    // Flate image with a PNG predictor, and CCITT G4 in a PDF, upright and drawn sideways
    // under /Rotate.
    let bilevel = first_page("bilevel.png");
    for other in [
        "multi-raw.tif",
        "multi-g4.tif",
        "g3-1d.tif",
        "g3-2d.tif",
        "huffman.tif",
        "pdf-flate-1bit-predictor.pdf",
        "pdf-ccitt-two-pages.pdf",
    ] {
        assert_eq!(bilevel, first_page(other), "{other}");
    }
    let ccitt = records["pdf-ccitt-two-pages.pdf"]["text"].as_str().unwrap();
    let turned = ccitt.split('\u{c}').nth(1).unwrap();
    assert_eq!(digest(turned), bilevel, "the sideways page is turned upright");
    // An owner-password PDF opens and decodes like its plain twin.
    assert_eq!(first_page("pdf-dct.pdf"), first_page("pdf-owner-password.pdf"));
    // A CMYK JPEG (Adobe's inverted kind, under a Decode array) in a PDF is a white page with
    // ink, as its gray original, not a negative.
    let ink = |name: &str| -> i64 {
        let text = records[name]["text"].as_str().unwrap();
        let (_, after) = text
            .split_once("ink ")
            .unwrap_or_else(|| panic!("{name} reads {text:?}"));
        after.split_whitespace().next().unwrap().parse().unwrap()
    };
    let gray = ink("gray.png");
    // So are a palette and a CMYK TIFF, which only libtiff reads.
    for name in ["pdf-cmyk-dct.pdf", "palette.tif", "cmyk.tif"] {
        let other = ink(name);
        assert!(
            (other - gray).abs() <= 10,
            "{name} {other} vs gray {gray} permille of ink"
        );
    }
}

#[test]
fn pages_keep_native_resolution_and_say_how_text_was_obtained() {
    let t = TestDir::new();
    for name in [
        "pdf-dct.pdf",
        "pdf-text.pdf",
        "pdf-vector.pdf",
        "multi-jpeg.tif",
        "fax-standard.tif",
    ] {
        t.put_fixture(&format!("formats/{name}"), None);
    }
    assert_eq!(t.ingest().code, 0);
    let ids = by_source(t.export());
    let show = |name: &str| {
        let id = ids[name]["id"].to_string();
        let run = t.run(&["show", &id, "--json"]);
        assert_eq!(run.code, 0, "{run:?}");
        run.json()
    };
    let scanned = show("pdf-dct.pdf");
    let page = &scanned["page_texts"][0];
    assert_eq!(
        (page["width"].as_u64(), page["height"].as_u64()),
        (Some(1500), Some(600))
    );
    assert_eq!(page["text_source"], "ocr");
    assert_eq!(page["dpi"], 300);
    // A TIFF's resolution is a RATIONAL tag; read, not estimated.
    let tiff = show("multi-jpeg.tif");
    assert_eq!(tiff["page_texts"][0]["dpi"], 300);
    assert_eq!(tiff["page_texts"][0]["rotation"], 0);

    let born_digital = show("pdf-text.pdf");
    for page in born_digital["page_texts"].as_array().unwrap() {
        assert_eq!(page["text_source"], "text_layer");
        assert!(page["ocr_confidence"].is_null());
        assert!(
            page["text"].as_str().unwrap().contains("Nakamura")
                || page["text"].as_str().unwrap().contains("NAKAMURA")
        );
    }
    assert!(born_digital["ocr_confidence"].is_null());

    // Vector drawing and a word of text: rasterised by poppler at 300 dpi.
    let vector = show("pdf-vector.pdf");
    let page = &vector["page_texts"][0];
    assert_eq!(
        (page["width"].as_u64(), page["height"].as_u64()),
        (Some(2550), Some(3300))
    );
    assert_eq!(page["text_source"], "ocr");

    // A fax at standard resolution (twice as fine across as down) is stretched to square
    // pixels: the letters as tall as OCR expects.
    let fax = show("fax-standard.tif");
    let page = &fax["page_texts"][0];
    assert_eq!(
        (
            page["width"].as_u64(),
            page["height"].as_u64(),
            page["dpi"].as_u64()
        ),
        (Some(1500), Some(600), Some(300))
    );

    let tiff = show("multi-jpeg.tif");
    assert_eq!(tiff["pages"], 3);
    assert_eq!(tiff["media_type"], "image/tiff");
}

#[test]
fn jbig2_scan_decodes_like_its_ccitt_twin() {
    // Two real-world PDFs of the same brochure page (OCRmyPDF's test files): JBIG2 pages drawn
    // in four orientations, and the same scan in CCITT G4.
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/dev/files");
    let t = TestDir::new();
    for name in ["dev_056.pdf", "dev_057.pdf"] {
        std::fs::copy(corpus.join(name), t.inbox().join(name)).unwrap();
    }
    assert_eq!(t.ingest().code, 0);
    let records = by_source(t.export());
    let jbig2: Vec<&str> = records["dev_056.pdf"]["text"]
        .as_str()
        .unwrap()
        .split('\u{c}')
        .collect();
    let ccitt = records["dev_057.pdf"]["text"].as_str().unwrap();
    assert_eq!(jbig2.len(), 4);
    // Drawn in four orientations, all four are turned upright before OCR and read alike.
    assert!(
        jbig2.iter().all(|page| digest(page) == digest(jbig2[0])),
        "{jbig2:?}"
    );
    let shown = t
        .run(&["show", &records["dev_056.pdf"]["id"].to_string(), "--json"])
        .json();
    let mut turned: Vec<u64> = shown["page_texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["rotation"].as_u64().unwrap())
        .collect();
    turned.sort_unstable();
    assert_eq!(turned, [0, 90, 180, 270]);
    assert!(ccitt.contains("ink 76 permille"), "{ccitt}");
    assert!(
        jbig2.iter().all(|page| page.contains("ink 76 permille")),
        "{jbig2:?}"
    );
}

#[test]
fn a_file_already_archived_is_recorded_as_a_duplicate() {
    let t = TestDir::new();
    t.put_fixture("formats/gray.png", None);
    assert_eq!(t.ingest().code, 0);
    t.put_fixture("formats/gray.png", Some("copy-of-gray.png"));
    let run = t.ingest();
    assert_eq!(run.code, 0, "duplicates are not failures: {run:?}");
    assert!(
        run.stdout
            .contains("filed 0 documents from 0 files, 2 duplicates, 0 failed"),
        "{run:?}"
    );
    assert_eq!(t.export().len(), 1);
}

#[test]
fn two_copies_in_one_run_are_filed_once() {
    let t = TestDir::new();
    t.put_fixture("formats/multi-g4.tif", Some("a.tif"));
    t.put_fixture("formats/multi-g4.tif", Some("b.tif"));
    let run = t.ingest();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("from 1 files, 1 duplicates, 0 failed"),
        "{run:?}"
    );
    assert_eq!(t.export().len(), 1);
}

#[test]
fn originals_are_stored_byte_identical_under_their_hash() {
    let t = TestDir::new();
    let input = t.put_fixture("formats/pdf-ccitt-two-pages.pdf", None);
    assert_eq!(t.ingest().code, 0);
    let record = &t.export()[0];
    let sha = record["sha256"].as_str().unwrap();
    let stored = t.stored_original(sha);
    assert_eq!(std::fs::read(stored).unwrap(), std::fs::read(&input).unwrap());
    let mode = std::fs::metadata(t.archive()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "the archive is readable by its owner only");
}

#[test]
fn the_database_is_durable_versioned_and_indexed() {
    let t = TestDir::new();
    t.put_fixture("formats/gray.png", None);
    assert_eq!(t.ingest().code, 0);
    let conn = rusqlite::Connection::open(t.archive().join("chartscan.db")).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert!(version >= 1);
    let indexed: i64 = conn
        .query_row(
            "SELECT count(*) FROM pages_fts WHERE pages_fts MATCH 'fakeocr'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexed, 1);
    let row: (String, i64, String) = conn
        .query_row("SELECT source_name, size, media_type FROM files", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    let size = std::fs::metadata(fixture("formats/gray.png")).unwrap().len() as i64;
    assert_eq!(row, ("gray.png".to_string(), size, "image/png".to_string()));
}
