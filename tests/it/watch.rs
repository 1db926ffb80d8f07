//! The scanning-station daemon: files dropped in the inbox end filed exactly once or quarantined
//! with a reason, whatever is dropped, however it is written, and however often the daemon is
//! killed. Everything uses the fake OCR engine; waits are for conditions, never fixed sleeps.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::harness::{TestDir, distinct_png, fixture, wait_for};

fn config(extra_ocr: &str, extra_ingest: &str) -> String {
    format!(
        "[ocr]\nengine = \"fake\"\n{extra_ocr}\n[ingest]\njobs = 2\n{extra_ingest}\n[watch]\ninbox = \"in\"\nsettle_ms = 100\nincomplete_grace_secs = 1\nrescan_secs = 1\nstop_timeout_secs = 20\n"
    )
}

/// Original name → reason message, for everything in quarantine.
fn quarantined(t: &TestDir) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Ok(entries) = std::fs::read_dir(t.path().join("quarantine")) else {
        return out;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(original) = name.strip_suffix(".reason.json") {
            let reason: serde_json::Value =
                serde_json::from_slice(&std::fs::read(entry.path()).unwrap()).unwrap();
            out.insert(
                original.to_string(),
                reason["message"].as_str().unwrap_or("").to_string(),
            );
        }
    }
    out
}

fn filed_sources(t: &TestDir) -> Vec<String> {
    let Ok(conn) = rusqlite::Connection::open(t.archive().join("chartscan.db")) else {
        return Vec::new();
    };
    let Ok(mut stmt) = conn.prepare("SELECT source_name FROM intake WHERE outcome = 'filed' ORDER BY id")
    else {
        return Vec::new();
    };
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .filter_map(Result::ok)
        .collect()
}

/// What is left in `processing/` besides the daemon's lock file.
fn left_in_processing(t: &TestDir) -> Vec<String> {
    std::fs::read_dir(t.path().join("processing"))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name != ".station.lock")
                .collect()
        })
        .unwrap_or_default()
}

fn inbox_is_drained(t: &TestDir) -> bool {
    fn any_file(dir: &Path) -> bool {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.filter_map(Result::ok).any(|e| {
                let ft = e.file_type().unwrap();
                if ft.is_dir() { any_file(&e.path()) } else { true }
            })
        })
    }
    !any_file(&t.inbox())
}

fn terminate(child: &mut std::process::Child) -> i32 {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = wait_for(Duration::from_secs(30), || child.try_wait().unwrap().is_some());
    assert!(exited, "the daemon did not stop within 30 s of SIGTERM");
    child.wait().unwrap().code().unwrap_or(-1)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

#[test]
fn every_kind_of_bad_input_is_quarantined_with_its_reason_and_the_daemon_lives_on() {
    let t = TestDir::with_config(&config("", "max_file_bytes = 3000000\nmax_pages = 5\n"));
    // One file is there before the daemon starts.
    t.put_fixture("formats/gray.png", Some("before-start.png"));
    let mut daemon = t.spawn(&["watch"]);
    let pid = daemon.id();

    let read = |p: &str| std::fs::read(fixture(p)).unwrap();
    let cut = |p: &str, keep: f64| {
        let bytes = read(p);
        bytes[..(bytes.len() as f64 * keep) as usize].to_vec()
    };
    let mut garbled = read("formats/gray.png");
    let middle = garbled.len() / 2;
    garbled[middle..middle + 64].iter_mut().for_each(|b| *b ^= 0x5A);
    // (name, content, the start of the reason it must end quarantined with)
    let files: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.pdf", Vec::new(), "decode: file is empty"),
        ("empty.png", Vec::new(), "decode: file is empty"),
        ("cut.png", cut("formats/gray.png", 0.5), "decode: png truncated"),
        ("cut.jpg", cut("formats/rgb.jpg", 0.5), "decode: jpeg truncated"),
        ("cut.tif", cut("formats/multi-g4.tif", 0.6), "decode: tiff page"),
        ("tiff-header-only.tif", read("formats/multi-g4.tif")[..8].to_vec(), "decode: tiff"),
        ("cut.pdf", cut("formats/pdf-dct.pdf", 0.6), "pdf: truncated"),
        ("header-only.pdf", b"%PDF-1.7\n".to_vec(), "pdf: truncated"),
        ("garbage.pdf", b"%PDF-1.4\nthis is not a pdf at all\n%%EOF\n".to_vec(), "pdf: cannot parse"),
        ("jpeg-header-only.jpg", vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16], "decode: jpeg truncated"),
        ("garbled.png", garbled, "decode: png:"),
        ("notes.pdf", b"Dear colleague, the results are attached.\n".to_vec(), "decode: not a PDF, PNG, JPEG or TIFF file (content looks like text)"),
        ("page.html", b"<html><body>Lab results</body></html>\n".to_vec(), "decode: not a PDF, PNG, JPEG or TIFF file (content looks like text)"),
        ("archive.zip", b"PK\x03\x04\x14\x00\x08\x00\x08\x00\xa3\x5c\x00\x00\x00\x00\x00\x00\x00\x00".to_vec(), "decode: a ZIP archive (or an Office document), not a format chartscan files"),
        ("picture.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec(), "decode: a GIF image, not a format chartscan files"),
        ("locked.pdf", read("formats/pdf-user-password.pdf"), "pdf: encrypted, password required"),
        ("bomb.png", read("formats/bomb.png"), "decode: png image 20000x20000 exceeds pixel limit"),
        ("huge.pdf", vec![b'%'; 3_100_000], "read: file is 3100000 bytes, above the limit"),
        ("sub/deeper/good.tif", read("formats/multi-g4.tif"), ""),
        ("mislabelled.pdf", read("formats/bilevel.png"), ""),
        ("owner-locked.pdf", read("formats/pdf-owner-password.pdf"), ""),
    ];
    for (name, bytes, _) in &files {
        t.put(name, bytes);
    }
    // Links, a pipe and a socket: never followed, never opened.
    std::os::unix::fs::symlink(fixture("formats/gray.png"), t.inbox().join("link-to-file.png")).unwrap();
    std::os::unix::fs::symlink(t.path().join("nowhere.png"), t.inbox().join("dangling.png")).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(t.inbox().join("pipe.pdf"))
            .status()
            .unwrap()
            .success()
    );
    let _socket = std::os::unix::net::UnixListener::bind(t.inbox().join("socket.pdf")).unwrap();
    // Temporary and hidden names are left alone.
    t.put("scan.pdf.part", b"half a scan");
    t.put(".hidden.pdf", b"not for us");
    // A file deleted while it settles simply goes away.
    let doomed = t.put("deleted.pdf", b"%PDF-1.4\n");
    std::fs::remove_file(doomed).unwrap();
    // Unreadable (meaningful only when not root: root reads anything).
    let private = t.put("private.png", &distinct_png(7));
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o000)).unwrap();

    let expected_quarantine =
        files.iter().filter(|(_, _, r)| !r.is_empty()).count() + 4 + usize::from(!is_root());
    let done = wait_for(Duration::from_secs(60), || {
        quarantined(&t).len() >= expected_quarantine && filed_sources(&t).len() >= 4
    });
    let q = quarantined(&t);
    assert!(done, "quarantined {q:?}; filed {:?}", filed_sources(&t));
    for (name, _, reason) in &files {
        let base = Path::new(name)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if reason.is_empty() {
            assert!(
                !q.contains_key(&base),
                "{name} was quarantined: {:?}",
                q.get(&base)
            );
        } else {
            let got = q
                .get(&base)
                .unwrap_or_else(|| panic!("{name} not quarantined: {q:?}"));
            assert!(got.starts_with(reason), "{name}: {got}");
        }
    }
    for link in ["link-to-file.png", "dangling.png"] {
        assert_eq!(q[link], "read: not a regular file (a symbolic link)");
    }
    assert_eq!(q["pipe.pdf"], "read: not a regular file (a named pipe)");
    assert_eq!(q["socket.pdf"], "read: not a regular file (a socket)");
    if !is_root() {
        assert_eq!(q["private.png"], "read: permission denied");
    }
    let filed = filed_sources(&t);
    for good in [
        "before-start.png",
        "good.tif",
        "mislabelled.pdf",
        "owner-locked.pdf",
    ] {
        assert!(filed.iter().any(|f| f == good), "{good} not filed: {filed:?}");
    }
    // The link's target was never touched.
    assert!(fixture("formats/gray.png").exists());
    assert!(t.inbox().join("scan.pdf.part").exists() && t.inbox().join(".hidden.pdf").exists());
    assert!(!q.contains_key("deleted.pdf"));

    // Still the same process, and a good file dropped now is filed.
    assert!(daemon.try_wait().unwrap().is_none(), "the daemon died");
    assert_eq!(daemon.id(), pid);
    t.put("after.png", &distinct_png(42));
    assert!(wait_for(Duration::from_secs(20), || filed_sources(&t)
        .iter()
        .any(|f| f == "after.png")));
    assert!(wait_for(Duration::from_secs(10), || left_in_processing(&t).is_empty()));
    assert_eq!(terminate(&mut daemon), 0, "SIGTERM ends the daemon cleanly");
    let mode = std::fs::metadata(t.path().join("quarantine"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    let mode = std::fs::metadata(t.archive()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn a_second_daemon_on_the_same_folders_is_refused() {
    let t = TestDir::with_config(&config("", ""));
    let mut first = t.spawn(&["watch"]);
    assert!(wait_for(Duration::from_secs(10), || t
        .path()
        .join("processing/.station.lock")
        .exists()));
    let second = t.run(&["watch", "--until-idle"]);
    assert_eq!(second.code, 2, "{second:?}");
    assert!(second.stderr.contains("already running"), "{second:?}");
    assert_eq!(terminate(&mut first), 0);
}

#[test]
fn a_file_changed_after_its_claim_is_quarantined_not_half_filed() {
    let t = TestDir::with_config(&config("fake_delay_ms = 1500", ""));
    let mut daemon = t.spawn(&["watch"]);
    t.put(
        "growing.tif",
        &std::fs::read(fixture("formats/multi-g4.tif")).unwrap(),
    );
    let processing = t.path().join("processing");
    let claimed = || {
        std::fs::read_dir(&processing)
            .ok()
            .and_then(|mut entries| {
                entries.find_map(|e| {
                    e.ok()
                        .filter(|e| e.file_name().to_string_lossy().ends_with(".file"))
                })
            })
            .map(|e| e.path())
    };
    assert!(wait_for(Duration::from_secs(20), || claimed().is_some()));
    // The scanner was not done after all.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(claimed().unwrap())
        .unwrap();
    std::io::Write::write_all(&mut file, b"more").unwrap();
    drop(file);
    assert!(wait_for(Duration::from_secs(30), || quarantined(&t)
        .contains_key("growing.tif")));
    assert!(quarantined(&t)["growing.tif"].starts_with("read: the file changed after it was claimed"));
    assert!(filed_sources(&t).is_empty());
    assert_eq!(terminate(&mut daemon), 0);
}

#[test]
fn slow_writers_and_temporary_names_never_give_a_partial_document() {
    let t = TestDir::with_config(&config("", ""));
    let mut daemon = t.spawn(&["watch"]);
    let full = std::fs::read(fixture("formats/multi-lzw.tif")).unwrap();
    let png = std::fs::read(fixture("formats/gray.png")).unwrap();
    // A scanner writing in chunks with pauses longer than the settle time.
    let slow = std::thread::spawn({
        let path = t.inbox().join("slow.tif");
        let full = full.clone();
        move || {
            let mut file = std::fs::File::create(&path).unwrap();
            for chunk in full.chunks(full.len() / 3 + 1) {
                std::io::Write::write_all(&mut file, chunk).unwrap();
                file.sync_all().unwrap();
                std::thread::sleep(Duration::from_millis(400));
            }
        }
    });
    // Another writing under a temporary name, then renaming.
    let part = t.inbox().join("renamed.png.part");
    let mut file = std::fs::File::create(&part).unwrap();
    for chunk in png.chunks(png.len() / 2 + 1) {
        std::io::Write::write_all(&mut file, chunk).unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    drop(file);
    std::fs::rename(&part, t.inbox().join("renamed.png")).unwrap();
    slow.join().unwrap();
    assert!(
        wait_for(Duration::from_secs(30), || filed_sources(&t).len() == 2),
        "{:?}",
        filed_sources(&t)
    );
    assert!(quarantined(&t).is_empty(), "{:?}", quarantined(&t));
    let records = t.export();
    let slow_record = records.iter().find(|r| r["source"] == "slow.tif").unwrap();
    assert_eq!(
        slow_record["pages"], 3,
        "all three pages, not what was there at a pause"
    );
    assert_eq!(slow_record["sha256"], crate::harness::sha256(&full));
    let renamed = records.iter().find(|r| r["source"] == "renamed.png").unwrap();
    assert_eq!(renamed["sha256"], crate::harness::sha256(&png));
    assert_eq!(terminate(&mut daemon), 0);
}

#[test]
fn native_events_file_a_dropped_file_without_waiting_for_a_rescan() {
    // Relative folder names (resolved from the working directory) and a rescan far away: only
    // an event can bring the file in.
    let t = TestDir::with_config(
        "[ocr]\nengine = \"fake\"\n[watch]\ninbox = \"in\"\nsettle_ms = 100\nrescan_secs = 3600\n",
    );
    let mut daemon = t.spawn(&["watch"]);
    // Once a first file is filed, the startup scan is over: only an event can bring the next.
    t.put("first.png", &distinct_png(6));
    assert!(wait_for(Duration::from_secs(20), || filed_sources(&t) == ["first.png"]));
    std::fs::create_dir_all(t.inbox().join("station 2")).unwrap();
    t.put("station 2/dropped.png", &distinct_png(7));
    assert!(
        wait_for(Duration::from_secs(20), || filed_sources(&t).len() == 2),
        "{:?}",
        filed_sources(&t)
    );
    assert_eq!(terminate(&mut daemon), 0);
}

#[test]
fn polling_mode_files_what_it_finds_and_until_idle_returns_when_drained() {
    let t = TestDir::with_config(&config("", ""));
    std::fs::create_dir_all(t.inbox().join("new folder")).unwrap();
    t.put("new folder/a.png", &distinct_png(1));
    t.put("b.png", &distinct_png(2));
    let run = t.run(&["watch", "--poll", "0.2", "--until-idle"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("filed 2 files"), "{run:?}");
    assert!(inbox_is_drained(&t));
    assert!(left_in_processing(&t).is_empty());

    // While polling, a file dropped later in a folder made later is filed too.
    let mut daemon = t.spawn(&["watch", "--poll", "0.2"]);
    std::fs::create_dir_all(t.inbox().join("later/deeper")).unwrap();
    t.put("later/deeper/c.png", &distinct_png(3));
    assert!(wait_for(Duration::from_secs(20), || filed_sources(&t)
        .iter()
        .any(|f| f == "c.png")));
    assert_eq!(terminate(&mut daemon), 0);
}

#[test]
fn a_file_that_keeps_crashing_the_worker_is_quarantined_after_three_crashes() {
    let t = TestDir::with_config(&config("fake_abort_width = 77", ""));
    // Not blank (blank pages are never OCRed): a dark bar on a light page.
    let poison = image::GrayImage::from_fn(77, 30, |x, _| image::Luma([if x < 40 { 10 } else { 240 }]));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageLuma8(poison)
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    t.put("poison.png", &bytes);
    t.put("fine.png", &distinct_png(9));
    let mut crashes = 0;
    let mut last = None;
    for _ in 0..6 {
        let run = t.run(&["watch", "--until-idle"]);
        if run.code == 0 {
            last = Some(run);
            break;
        }
        crashes += 1;
    }
    assert_eq!(crashes, 3, "three crashes, then the file is set aside");
    assert!(last.is_some());
    assert_eq!(
        quarantined(&t)["poison.png"],
        "worker: crashed the worker (3 times in a row)"
    );
    assert!(filed_sources(&t).iter().any(|f| f == "fine.png"));
    assert!(inbox_is_drained(&t) && left_in_processing(&t).is_empty());
}

/// A small deterministic random source for the kill test.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn killed_again_and_again_nothing_is_lost_or_filed_twice() {
    let t = TestDir::with_config(&config("fake_delay_ms = 25", ""));
    let mut rng = Lcg(20261124);
    let total = 100u32;
    let mut dropped = 0u32;
    let mut kills = 0;
    while kills < 20 || dropped < total {
        let mut daemon = t.spawn(&["watch"]);
        for _ in 0..rng.below(8) + 3 {
            if dropped < total {
                t.put(&format!("batch/{dropped:03}.png"), &distinct_png(1000 + dropped));
                dropped += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(50 + rng.below(400)));
        daemon.kill().unwrap();
        daemon.wait().unwrap();
        kills += 1;
    }
    let run = t.run(&["watch", "--until-idle"]);
    assert_eq!(run.code, 0, "{run:?}");

    assert!(inbox_is_drained(&t), "files left in the inbox");
    let left = left_in_processing(&t);
    assert!(left.is_empty(), "files left in processing/: {left:?}\n{run:?}");
    let conn = rusqlite::Connection::open(t.archive().join("chartscan.db")).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let q = quarantined(&t);
    let mut filed: HashMap<String, i64> = HashMap::new();
    let mut stmt = conn
        .prepare("SELECT source_name, count(*) FROM intake WHERE outcome = 'filed' GROUP BY source_name")
        .unwrap();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
    {
        let (name, n) = row.unwrap();
        filed.insert(name, n);
    }
    let duplicates: i64 = conn
        .query_row(
            "SELECT count(*) FROM intake WHERE outcome = 'duplicate'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(duplicates, 0, "a file committed before a kill was recorded again");
    for i in 0..total {
        let name = format!("{i:03}.png");
        let times_filed = filed.get(&name).copied().unwrap_or(0);
        assert!(
            times_filed == 1 || (times_filed == 0 && q.contains_key(&name)),
            "{name}: filed {times_filed} times, quarantined: {:?}",
            q.get(&name)
        );
    }
    let files: i64 = conn
        .query_row("SELECT count(*) FROM files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(files as usize + q.len(), total as usize);
    assert!(kills >= 20);
}
