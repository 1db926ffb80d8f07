//! Bad input is normal life: every kind ends failed with a reason naming the stage and cause,
//! nothing is half-filed, the run goes on, and the exit code says what happened.

use std::os::unix::fs::PermissionsExt;

use crate::harness::{TestDir, fixture};

fn cut(fixture_path: &str, keep: f64) -> Vec<u8> {
    let bytes = std::fs::read(fixture(fixture_path)).unwrap();
    bytes[..(bytes.len() as f64 * keep) as usize].to_vec()
}

fn is_root() -> bool {
    std::fs::File::open("/proc/self/status")
        .map(|f| std::io::read_to_string(f).unwrap_or_default())
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

#[test]
fn each_bad_file_fails_with_its_reason_and_the_rest_are_filed() {
    let t = TestDir::new();
    // (file name, what it holds, the start of the reason it must fail with)
    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.pdf", Vec::new(), "decode: file is empty (0 bytes)"),
        ("cut.png", cut("formats/gray.png", 0.6), "decode: png truncated"),
        ("cut.jpg", cut("formats/rgb.jpg", 0.6), "decode: jpeg truncated"),
        (
            "cut-multi.tif",
            cut("formats/multi-lzw.tif", 0.7),
            "decode: tiff page",
        ),
        ("cut.pdf", cut("formats/pdf-dct.pdf", 0.7), "pdf: truncated"),
        (
            "notes.pdf",
            b"Dear colleague,\nplease find the results attached.\n".to_vec(),
            "decode: not a PDF, PNG, JPEG or TIFF file (content looks like text)",
        ),
        (
            "archive.tif",
            b"PK\x03\x04\x14\x00\x08\x00\x08\x00\xa3\x5c\x00\x00\x00\x00\x00\x00\x00\x00".to_vec(),
            "decode: a ZIP archive (or an Office document), not a format chartscan files",
        ),
        (
            "locked.pdf",
            std::fs::read(fixture("formats/pdf-user-password.pdf")).unwrap(),
            "pdf: encrypted, password required",
        ),
        (
            "bomb.png",
            std::fs::read(fixture("formats/bomb.png")).unwrap(),
            "decode: png image 20000x20000 exceeds pixel limit",
        ),
        (
            "header-only.pdf",
            b"%PDF-1.7\n%%EOF\n".to_vec(),
            "pdf: cannot parse",
        ),
    ];
    let mut corrupt_png = std::fs::read(fixture("formats/gray.png")).unwrap();
    let middle = corrupt_png.len() / 2;
    corrupt_png[middle..middle + 64]
        .iter_mut()
        .for_each(|b| *b ^= 0x5A);
    cases.push(("garbled.png", corrupt_png, "decode: png:"));
    for (name, bytes, _) in &cases {
        t.put(name, bytes);
    }
    std::os::unix::fs::symlink(t.path().join("nowhere.png"), t.inbox().join("dangling.png")).unwrap();
    let fifo = t.inbox().join("pipe.png");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let unreadable = t.put(
        "private.png",
        &std::fs::read(fixture("formats/gray.png")).unwrap(),
    );
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    // A PNG named .pdf and a good scan after all the bad ones are filed.
    t.put_fixture("formats/bilevel.png", Some("mislabelled.pdf"));
    t.put_fixture("formats/multi-g4.tif", Some("zz-good.tif"));

    let run = t.ingest();
    assert_eq!(run.code, 1, "some files failed: {run:?}");
    let failures = t.failures();
    let reason = |name: &str| {
        failures
            .iter()
            .find(|(source, _)| source == name)
            .map(|(_, reason)| reason.clone())
            .unwrap_or_else(|| panic!("{name} did not fail: {failures:?}"))
    };
    for (name, _, expected) in &cases {
        let reason = reason(name);
        assert!(reason.starts_with(expected), "{name}: {reason}");
    }
    assert!(
        reason("cut-multi.tif").contains("truncated"),
        "{}",
        reason("cut-multi.tif")
    );
    assert_eq!(
        reason("dangling.png"),
        "read: file not found (moved, deleted or a dangling link)"
    );
    assert_eq!(reason("pipe.png"), "read: not a regular file");
    if is_root() {
        // Root reads anything; the file is simply filed.
        assert_eq!(failures.len(), cases.len() + 2);
    } else {
        assert_eq!(reason("private.png"), "read: permission denied");
    }

    let filed: Vec<String> = t
        .export()
        .iter()
        .map(|r| r["source"].as_str().unwrap().to_string())
        .collect();
    assert!(filed.contains(&"mislabelled.pdf".to_string()), "{filed:?}");
    assert!(filed.contains(&"zz-good.tif".to_string()), "{filed:?}");
    for (name, _, _) in &cases {
        assert!(!filed.contains(&name.to_string()), "{name} was filed");
    }
    assert!(
        run.stdout.contains(&format!("{} failed", failures.len())),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("failed: ") && run.stdout.contains("pdf: encrypted, password required"),
        "{run:?}"
    );
}

#[test]
fn a_truncated_multi_page_tiff_is_never_filed_as_fewer_pages() {
    for keep in [0.35, 0.5, 0.7, 0.9, 0.99] {
        let t = TestDir::new();
        t.put("cut.tif", &cut("formats/multi-g4.tif", keep));
        let run = t.ingest();
        assert_eq!(run.code, 1, "kept {keep}: {run:?}");
        assert!(t.export().is_empty(), "kept {keep}");
        let (_, reason) = &t.failures()[0];
        assert!(reason.starts_with("decode: tiff"), "kept {keep}: {reason}");
    }
}

#[test]
fn limits_on_size_and_pages_are_enforced() {
    let t =
        TestDir::with_config("[ocr]\nengine = \"fake\"\n[ingest]\nmax_file_bytes = 20000\nmax_pages = 2\n");
    t.put_fixture("formats/pdf-dct.pdf", None);
    t.put_fixture("formats/multi-g4.tif", None);
    assert_eq!(t.ingest().code, 1);
    let failures = t.failures();
    assert!(
        failures.iter().any(|(n, r)| n == "pdf-dct.pdf"
            && r.starts_with("read: file is")
            && r.contains("above the limit of 20000")),
        "{failures:?}"
    );
    assert!(
        failures
            .iter()
            .any(|(n, r)| n == "multi-g4.tif" && r == "decode: 3 pages exceed the limit of 2"),
        "{failures:?}"
    );
}

#[test]
fn what_stops_the_whole_run_exits_2() {
    let t = TestDir::new();
    let run = t.run(&["ingest", "no/such/folder"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("cannot be opened"), "{run:?}");

    t.put_fixture("formats/gray.png", None);
    let blocker = t.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let inbox = t.inbox();
    let run = t.run(&[
        "ingest",
        inbox.to_str().unwrap(),
        "--archive",
        blocker.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{run:?}");

    let bad_config = TestDir::with_config("[ocr]\nengine = \"fake\"\npsn = 6\n");
    bad_config.put_fixture("formats/gray.png", None);
    let run = bad_config.ingest();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("unknown field"), "{run:?}");
}

#[test]
fn failure_reasons_and_logs_never_carry_file_names() {
    let t = TestDir::new();
    t.put("SMITH_JOHN_MRN123456.pdf", b"%PDF-1.4\n1 0 obj");
    let mut command = t.command(&["ingest", t.inbox().to_str().unwrap()]);
    command.env("CHARTSCAN_LOG", "debug");
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("file failed"), "{stderr}");
    assert!(!stderr.contains("SMITH"), "the log names the file: {stderr}");
    let (_, reason) = &t.failures()[0];
    assert!(!reason.contains("SMITH"), "{reason}");
}
