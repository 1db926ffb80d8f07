//! The scanning station's folders: the inbox scanners drop files into, `processing/` where a
//! claimed file waits until its archive record is committed, and `quarantine/` where a file
//! that could not be filed ends with a `NAME.reason.json`.
//!
//! A claim is an atomic rename into `processing/` (same filesystem) preceded by a small sidecar
//! (`<token>.json`: the file's name in the inbox, crash count) written and fsynced first, so
//! after any crash every file in `processing/` says where it came from. Nothing here deletes a
//! file whose record is not committed: the caller decides when.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::settle::Look;
use crate::model::Failure;

/// The three folders of a watched inbox.
#[derive(Debug, Clone)]
pub struct Folders {
    pub inbox: PathBuf,
    pub processing: PathBuf,
    pub quarantine: PathBuf,
}

impl Folders {
    /// Creates the folders (owner-only) and checks that `processing/` can be renamed into from
    /// the inbox (same filesystem).
    pub fn prepare(inbox: &Path, processing: &Path, quarantine: &Path) -> anyhow::Result<Folders> {
        for dir in [inbox, processing, quarantine] {
            if !dir.exists() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
        }
        for dir in [processing, quarantine] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("making {} owner-only", dir.display()))?;
        }
        let device = |dir: &Path| std::fs::metadata(dir).map(|m| m.dev());
        if device(inbox)? != device(processing)? {
            bail!(
                "{} and {} are on different filesystems: a claim must be an atomic rename",
                inbox.display(),
                processing.display()
            );
        }
        for inside in [processing, quarantine] {
            if let (Ok(a), Ok(b)) = (inside.canonicalize(), inbox.canonicalize())
                && a.starts_with(&b)
            {
                bail!(
                    "{} must not be inside the inbox {}",
                    inside.display(),
                    inbox.display()
                );
            }
        }
        // Absolute paths: native events name files by the path that was watched, and the
        // daemon compares them with the inbox whatever the working directory was.
        let absolute = |dir: &Path| {
            dir.canonicalize()
                .with_context(|| format!("resolving {}", dir.display()))
        };
        Ok(Folders {
            inbox: absolute(inbox)?,
            processing: absolute(processing)?,
            quarantine: absolute(quarantine)?,
        })
    }
}

/// Held by the one daemon that owns a `processing/` folder; released when dropped (or when the
/// process dies, however it dies).
#[derive(Debug)]
pub struct StationLock {
    _file: std::fs::File,
}

impl Folders {
    /// Takes the station lock, or says that another daemon already runs on these folders: two
    /// daemons sharing `processing/` would each take the other's claims for crash leftovers.
    pub fn lock(&self) -> anyhow::Result<StationLock> {
        let path = self.processing.join(LOCK_NAME);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(StationLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "another chartscan watch is already running on {}",
                self.processing.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => Err(e).context("locking the processing folder"),
        }
    }
}

const LOCK_NAME: &str = ".station.lock";
/// Prefix of the temporary files sidecars are written through.
const TEMP_PREFIX: &str = ".incoming-";

/// Names scanners and copy tools use while a file is still being written.
pub fn is_in_progress_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    name.starts_with('.')
        || name.starts_with("~$")
        || [
            ".part",
            ".tmp",
            ".temp",
            ".crdownload",
            ".partial",
            ".download",
            ".swp",
            "~",
        ]
        .iter()
        .any(|suffix| lower.ends_with(suffix))
}

/// A path an event named is one to look at: inside the inbox, with no hidden or in-progress
/// name on the way (`.tmp/x.pdf`, `scan.pdf.part`).
pub fn is_watched(inbox: &Path, path: &Path) -> bool {
    match path.strip_prefix(inbox) {
        Ok(relative) => {
            let mut parts = relative.components().peekable();
            parts.peek().is_some() && parts.all(|c| !is_in_progress_name(&c.as_os_str().to_string_lossy()))
        }
        Err(_) => false,
    }
}

/// What a look through the inbox found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A regular file to settle and claim.
    File(PathBuf),
    /// Something that is not a regular file (a link, a pipe, a device): never followed or
    /// opened, quarantined with the reason.
    Refused(PathBuf, String),
}

/// Every file in the inbox and its subfolders, skipping in-progress names.
pub fn scan(inbox: &Path) -> Vec<Found> {
    let mut out = Vec::new();
    scan_dir(inbox, &mut out);
    out
}

fn scan_dir(dir: &Path, out: &mut Vec<Found>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_in_progress_name(&name) {
            continue;
        }
        let path = entry.path();
        match classify(&path) {
            Some(Kind::Dir) => scan_dir(&path, out),
            Some(Kind::File) => out.push(Found::File(path)),
            Some(Kind::Other(what)) => out.push(Found::Refused(path, format!("not a regular file ({what})"))),
            None => {}
        }
    }
}

enum Kind {
    Dir,
    File,
    Other(&'static str),
}

/// What a path is, without following links; `None` if it is gone.
fn classify(path: &Path) -> Option<Kind> {
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::symlink_metadata(path).ok()?;
    let kind = meta.file_type();
    Some(if kind.is_dir() {
        Kind::Dir
    } else if kind.is_file() {
        Kind::File
    } else if kind.is_symlink() {
        Kind::Other("a symbolic link")
    } else if kind.is_fifo() {
        Kind::Other("a named pipe")
    } else if kind.is_block_device() || kind.is_char_device() {
        Kind::Other("a device")
    } else if kind.is_socket() {
        Kind::Other("a socket")
    } else {
        Kind::Other("an unknown kind of file")
    })
}

/// A look at a regular file in the inbox, without following links.
pub fn look(path: &Path) -> Option<Look> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    meta.is_file().then(|| Look {
        size: meta.len(),
        mtime: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
    })
}

/// A file claimed into `processing/`.
#[derive(Debug, Clone)]
pub struct Claim {
    pub token: String,
    /// The file's path relative to the inbox (patient data: never logged).
    pub source: String,
    /// How many daemon runs ended while this file was in flight.
    pub crashes: u32,
    pub data: PathBuf,
    pub sidecar: PathBuf,
    /// What the file looked like when it was claimed (a rename keeps size and mtime), so a
    /// change made before processing starts is noticed too; `None` for a resumed claim.
    pub claimed_look: Option<Look>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Sidecar {
    token: String,
    source: String,
    crashes: u32,
    /// Set when a stopping daemon gave the file back: the next run is not counted as a crash.
    #[serde(default)]
    released: bool,
}

static CLAIMS: AtomicU64 = AtomicU64::new(0);

/// Claims `path` (a regular file in the inbox) into `processing/`; `None` if it vanished first.
pub fn claim(folders: &Folders, path: &Path) -> anyhow::Result<Option<Claim>> {
    let source = path
        .strip_prefix(&folders.inbox)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned();
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let token = format!(
        "{nanos:x}-{}-{}",
        std::process::id(),
        CLAIMS.fetch_add(1, Ordering::Relaxed)
    );
    let claim = Claim {
        data: folders.processing.join(format!("{token}.file")),
        sidecar: folders.processing.join(format!("{token}.json")),
        token,
        source,
        crashes: 0,
        claimed_look: look(path),
    };
    write_sidecar(&claim, false)?;
    match std::fs::rename(path, &claim.data) {
        Ok(()) => {
            sync_dir(&folders.processing)?;
            sync_dir(path.parent().unwrap_or(&folders.inbox))?;
            Ok(Some(claim))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::remove_file(&claim.sidecar)?;
            Ok(None)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&claim.sidecar);
            Err(e).context("claiming a file into processing/")
        }
    }
}

fn write_sidecar(claim: &Claim, released: bool) -> anyhow::Result<()> {
    let sidecar = Sidecar {
        token: claim.token.clone(),
        source: claim.source.clone(),
        crashes: claim.crashes,
        released,
    };
    write_synced(&claim.sidecar, &serde_json::to_vec(&sidecar)?)
}

/// What a previous run left in `processing/`: each claim with its crash count raised by one,
/// unless the run gave it back on stopping. Sidecars whose file never arrived are removed.
pub fn leftovers(folders: &Folders) -> anyhow::Result<Vec<Claim>> {
    let mut claims = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&folders.processing)?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            // A sidecar half-written when the last run died; its claim never happened.
            std::fs::remove_file(&path)?;
            continue;
        }
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Ok(sidecar) = std::fs::read(&path)
            .map_err(anyhow::Error::from)
            .and_then(|bytes| Ok(serde_json::from_slice::<Sidecar>(&bytes)?))
        else {
            continue;
        };
        let data = folders.processing.join(format!("{}.file", sidecar.token));
        if !data.exists() {
            std::fs::remove_file(&path)?;
            continue;
        }
        let claim = Claim {
            crashes: sidecar.crashes + u32::from(!sidecar.released),
            token: sidecar.token,
            source: sidecar.source,
            data,
            sidecar: path,
            claimed_look: None,
        };
        write_sidecar(&claim, false)?;
        claims.push(claim);
    }
    Ok(claims)
}

/// The file is filed (or recorded as a duplicate): its copy in `processing/` goes.
pub fn finish(folders: &Folders, claim: &Claim) -> anyhow::Result<()> {
    remove_if_there(&claim.data)?;
    remove_if_there(&claim.sidecar)?;
    sync_dir(&folders.processing)
}

/// Gives a claimed file back to the inbox (a stopping daemon that cannot finish it in time).
pub fn release(folders: &Folders, claim: &Claim) -> anyhow::Result<()> {
    let back = folders.inbox.join(&claim.source);
    if back.exists() {
        // Something new arrived under that name: keep ours in processing/, marked released.
        return write_sidecar(claim, true);
    }
    if let Some(parent) = back.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::rename(&claim.data, &back)?;
    remove_if_there(&claim.sidecar)?;
    sync_dir(&folders.processing)
}

/// Why a file is in quarantine, as written to `NAME.reason.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reason {
    pub stage: String,
    pub error_kind: String,
    pub message: String,
    pub time: String,
    pub attempts: u32,
    pub sha256: Option<String>,
}

impl Reason {
    pub fn of(failure: &Failure, attempts: u32, sha256: Option<&str>) -> Reason {
        Reason {
            stage: failure.stage.as_str().to_string(),
            error_kind: failure.kind.as_str().to_string(),
            message: failure.to_string(),
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            attempts,
            sha256: sha256.map(str::to_string),
        }
    }
}

/// Moves a file (claimed, or a refused link or pipe still in the inbox) into quarantine under
/// its own name (numbered if taken) and writes its reason beside it. Returns the new path.
pub fn quarantine(folders: &Folders, file: &Path, name: &str, reason: &Reason) -> anyhow::Result<PathBuf> {
    let name = Path::new(name)
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let mut target = folders.quarantine.join(&name);
    let mut n = 2;
    while target.exists() || std::fs::symlink_metadata(&target).is_ok() || reason_path(&target).exists() {
        let stem = Path::new(&name)
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let ext = Path::new(&name)
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        target = folders.quarantine.join(format!("{stem} ({n}){ext}"));
        n += 1;
    }
    write_synced(&reason_path(&target), &serde_json::to_vec_pretty(reason)?)?;
    std::fs::rename(file, &target).context("moving into quarantine")?;
    sync_dir(&folders.quarantine)?;
    if let Some(parent) = file.parent() {
        sync_dir(parent)?;
    }
    Ok(target)
}

pub fn reason_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".reason.json");
    file.with_file_name(name)
}

/// Files waiting in each folder: (inbox, processing, quarantine).
pub fn counts(folders: &Folders) -> (usize, usize, usize) {
    let inbox = scan(&folders.inbox).len();
    let count = |dir: &Path, suffix: &str| {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
                    .count()
            })
            .unwrap_or(0)
    };
    (
        inbox,
        count(&folders.processing, ".file"),
        count(&folders.quarantine, ".reason.json"),
    )
}

fn remove_if_there(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("a path without a folder")?;
    let mut tmp = tempfile::Builder::new().prefix(TEMP_PREFIX).tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folders(root: &Path) -> Folders {
        Folders::prepare(
            &root.join("in"),
            &root.join("processing"),
            &root.join("quarantine"),
        )
        .unwrap()
    }

    #[test]
    fn in_progress_names_are_left_alone() {
        for name in [
            ".hidden.pdf",
            "scan.pdf.part",
            "x.tmp",
            "~$doc.docx",
            "a.pdf.crdownload",
            "b~",
        ] {
            assert!(is_in_progress_name(name), "{name}");
        }
        assert!(!is_in_progress_name("scan 2024-11-02.pdf"));
    }

    #[test]
    fn events_inside_hidden_or_in_progress_names_are_not_watched() {
        let inbox = Path::new("/srv/inbox");
        assert!(is_watched(inbox, Path::new("/srv/inbox/ward 3/a.pdf")));
        assert!(!is_watched(inbox, Path::new("/srv/inbox/a.pdf.part")));
        assert!(!is_watched(inbox, Path::new("/srv/inbox/.sync/a.pdf")));
        assert!(!is_watched(inbox, Path::new("/srv/other/a.pdf")));
        assert!(!is_watched(inbox, Path::new("/srv/inbox")));
    }

    #[test]
    fn scan_finds_files_refuses_oddities_and_skips_temp_names() {
        let dir = tempfile::tempdir().unwrap();
        let f = folders(dir.path());
        std::fs::create_dir(f.inbox.join("ward 3")).unwrap();
        std::fs::write(f.inbox.join("ward 3/a.pdf"), b"x").unwrap();
        std::fs::write(f.inbox.join("b.pdf.part"), b"x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", f.inbox.join("link.pdf")).unwrap();
        let found = scan(&f.inbox);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.contains(&Found::File(f.inbox.join("ward 3/a.pdf"))));
        assert!(found.contains(&Found::Refused(
            f.inbox.join("link.pdf"),
            "not a regular file (a symbolic link)".into()
        )));
    }

    #[test]
    fn claims_survive_a_crash_and_count_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = folders(dir.path());
        std::fs::write(f.inbox.join("a.pdf"), b"scan").unwrap();
        let claim = claim(&f, &f.inbox.join("a.pdf")).unwrap().unwrap();
        assert!(!f.inbox.join("a.pdf").exists());
        assert_eq!(std::fs::read(&claim.data).unwrap(), b"scan");
        // The daemon dies here; the next one finds the claim, one crash later.
        let again = leftovers(&f).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!((again[0].source.as_str(), again[0].crashes), ("a.pdf", 1));
        assert_eq!(leftovers(&f).unwrap()[0].crashes, 2);
        finish(&f, &again[0]).unwrap();
        assert!(leftovers(&f).unwrap().is_empty());
        assert_eq!(counts(&f), (0, 0, 0));
    }

    #[test]
    fn a_vanished_file_is_no_claim_and_released_claims_go_back() {
        let dir = tempfile::tempdir().unwrap();
        let f = folders(dir.path());
        assert!(claim(&f, &f.inbox.join("gone.pdf")).unwrap().is_none());
        assert!(
            std::fs::read_dir(&f.processing).unwrap().next().is_none(),
            "no stray sidecar"
        );
        std::fs::create_dir(f.inbox.join("sub")).unwrap();
        std::fs::write(f.inbox.join("sub/a.pdf"), b"scan").unwrap();
        let c = claim(&f, &f.inbox.join("sub/a.pdf")).unwrap().unwrap();
        release(&f, &c).unwrap();
        assert_eq!(std::fs::read(f.inbox.join("sub/a.pdf")).unwrap(), b"scan");
        assert!(leftovers(&f).unwrap().is_empty());
    }

    #[test]
    fn quarantine_keeps_both_of_two_files_with_one_name() {
        let dir = tempfile::tempdir().unwrap();
        let f = folders(dir.path());
        let failure = Failure::decode(crate::model::ErrorKind::Empty, "file is empty (0 bytes)");
        for _ in 0..2 {
            std::fs::write(f.inbox.join("a.pdf"), b"").unwrap();
            let c = claim(&f, &f.inbox.join("a.pdf")).unwrap().unwrap();
            quarantine(&f, &c.data, &c.source, &Reason::of(&failure, 1, None)).unwrap();
            finish(&f, &c).unwrap();
        }
        assert!(f.quarantine.join("a.pdf").exists() && f.quarantine.join("a (2).pdf").exists());
        let reason: Reason =
            serde_json::from_slice(&std::fs::read(f.quarantine.join("a (2).pdf.reason.json")).unwrap())
                .unwrap();
        assert_eq!(
            (reason.stage.as_str(), reason.error_kind.as_str()),
            ("decode", "empty")
        );
        assert_eq!(counts(&f), (0, 0, 2));
        let mode = std::fs::metadata(&f.quarantine).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
