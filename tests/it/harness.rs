//! `TestDir`: a temporary folder with an archive, an inbox of input files and a config, and a
//! way to run `chartscan` against them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct TestDir {
    dir: tempfile::TempDir,
    config: PathBuf,
}

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Standard output parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    /// Standard output parsed as JSON lines.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

impl TestDir {
    /// A folder whose config selects the fake OCR engine.
    pub fn new() -> TestDir {
        TestDir::with_config("[ocr]\nengine = \"fake\"\n[ingest]\njobs = 2\n")
    }

    /// A folder whose config selects real Tesseract.
    pub fn with_tesseract() -> TestDir {
        TestDir::with_config("[ocr]\nengine = \"tesseract\"\n[ingest]\njobs = 2\n")
    }

    pub fn with_config(toml: &str) -> TestDir {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("chartscan.toml");
        std::fs::write(&config, toml).unwrap();
        std::fs::create_dir(dir.path().join("in")).unwrap();
        TestDir { dir, config }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn archive(&self) -> PathBuf {
        self.dir.path().join("archive")
    }

    /// The folder input files are put in.
    pub fn inbox(&self) -> PathBuf {
        self.dir.path().join("in")
    }

    /// Writes `bytes` as `name` in the inbox and returns its path.
    pub fn put(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.inbox().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Copies a fixture into the inbox, under its own name or `name`.
    pub fn put_fixture(&self, fixture_path: &str, name: Option<&str>) -> PathBuf {
        let bytes = std::fs::read(fixture(fixture_path)).unwrap();
        let name = name.unwrap_or_else(|| fixture_path.rsplit('/').next().unwrap());
        self.put(name, &bytes)
    }

    /// Runs `chartscan ARGS` with this folder's config and archive.
    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().map(Run::from).unwrap()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_chartscan"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("CHARTSCAN_CONFIG", &self.config)
            .env("CHARTSCAN_ARCHIVE", self.archive())
            .env_remove("CHARTSCAN_LOG");
        command
    }

    /// Where the archive stores the original with this SHA-256.
    pub fn stored_original(&self, sha256: &str) -> PathBuf {
        self.archive()
            .join("objects")
            .join(&sha256[..2])
            .join(&sha256[2..])
    }

    /// Flips one byte of the stored original with this SHA-256 (made writable first, as the
    /// archive stores it read-only), as damage on disk would.
    pub fn damage_stored_original(&self, sha256: &str) {
        let object = self.stored_original(sha256);
        let mut bytes = std::fs::read(&object).unwrap();
        bytes[100] ^= 0x01;
        let mut permissions = std::fs::metadata(&object).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        std::fs::set_permissions(&object, permissions).unwrap();
        std::fs::write(&object, bytes).unwrap();
    }

    /// `chartscan ingest` over the inbox.
    pub fn ingest(&self) -> Run {
        let inbox = self.inbox();
        self.run(&["ingest", inbox.to_str().unwrap()])
    }

    /// The export, one JSON object per document, keyed by source file name.
    pub fn export(&self) -> Vec<serde_json::Value> {
        let run = self.run(&["export", "--format", "jsonl"]);
        assert_eq!(run.code, 0, "{run:?}");
        run.json_lines()
    }

    /// Every failed file: (file name, reason).
    pub fn failures(&self) -> Vec<(String, String)> {
        let run = self.run(&["failures", "--json"]);
        assert_eq!(run.code, 0, "{run:?}");
        run.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["source"].as_str().unwrap().to_string(),
                    f["reason"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

/// A born-digital PDF whose pages carry `pages` as their text layer (one line per text line),
/// for tests of the text stages that must not depend on OCR.
pub fn text_pdf(pages: &[&str]) -> Vec<u8> {
    let escape = |line: &str| line.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
    // Objects: 1 catalog, 2 page tree, 3 font, then a page and its content per page.
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        Vec::new(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
    ];
    let mut kids = Vec::new();
    for page in pages {
        let mut content = String::from("BT /F1 10 Tf 12 TL 54 750 Td\n");
        for line in page.lines() {
            content.push_str(&format!("({}) Tj T*\n", escape(line)));
        }
        content.push_str("ET\n");
        let content_id = objects.len() + 2;
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R /Resources << /Font << /F1 3 0 R >> >> >>"
            )
            .into_bytes(),
        );
        kids.push(format!("{} 0 R", objects.len()));
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content.as_bytes());
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    objects[1] = format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    )
    .into_bytes();
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

impl TestDir {
    /// Starts `chartscan ARGS` in the background (the daemon), its output discarded.
    pub fn spawn(&self, args: &[&str]) -> Daemon {
        Daemon(
            self.command(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        )
    }
}

/// A background `chartscan`, killed when dropped if it is still running: a test that fails
/// half-way leaves no daemon behind.
pub struct Daemon(std::process::Child);

impl std::ops::Deref for Daemon {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        &self.0
    }
}

impl std::ops::DerefMut for Daemon {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        &mut self.0
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Waits for `condition`, checking every 20 ms, for at most `limit`; true if it came true.
pub fn wait_for(limit: std::time::Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if condition() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    condition()
}

/// A small PNG whose pixels depend on `seed`, so every seed is a different file.
pub fn distinct_png(seed: u32) -> Vec<u8> {
    let image = image::GrayImage::from_fn(60, 40, |x, y| {
        let v = (x * 7 + y * 13 + seed * 31) % 251;
        image::Luma([if (x + seed).is_multiple_of(5) {
            0
        } else {
            200 + (v % 50) as u8
        }])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageLuma8(image)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
