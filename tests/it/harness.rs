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
