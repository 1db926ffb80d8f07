//! Getting files in: the walk over the folders an operator names for `ingest`, the read of one
//! file into memory with its SHA-256, and for `watch` the inbox itself ([`inbox`]: claiming,
//! quarantine, crash leftovers) and the settle tracker ([`settle`]).
//!
//! Only regular files are read. Directories are walked recursively in name order; hidden entries
//! (`.DS_Store`, `.~lock`) are skipped and symlinked directories are not followed, so a link loop
//! cannot trap the walk. Nothing here decodes content.

pub mod inbox;
pub mod settle;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::model::{ErrorKind, Failure, Phi, Stage};

/// A file read into memory, with its identity.
#[derive(Debug, Clone)]
pub struct Intake {
    /// The file's name, without its folder.
    pub source_name: Phi<String>,
    pub bytes: Arc<[u8]>,
    pub sha256: String,
    pub size: u64,
}

/// Every file under `inputs`, in a stable order. An input that does not exist is an error for
/// the whole run: nothing has been done yet and the operator mistyped something.
pub fn collect(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input)
            .with_context(|| format!("input {} cannot be opened", input.display()))?;
        if meta.is_dir() {
            walk(input, &mut files).with_context(|| format!("walking {}", input.display()))?;
        } else {
            files.push(input.clone());
        }
    }
    if files.is_empty() {
        bail!("no files found under the given paths");
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, files)?;
        } else {
            // Regular files, symlinks to files and oddities alike: `read` judges each one,
            // so a FIFO or a dangling link is reported rather than silently skipped.
            let is_dir_link = entry.file_type()?.is_symlink() && path.is_dir();
            if !is_dir_link {
                files.push(path);
            }
        }
    }
    Ok(())
}

/// The name a file is recorded under: its last path component.
pub fn source_name(path: &Path) -> Phi<String> {
    Phi::new(
        path.file_name()
            .map_or_else(|| path.to_string_lossy(), |n| n.to_string_lossy())
            .into_owned(),
    )
}

/// Reads one file whole and hashes it. Refuses anything but a regular file (a FIFO would block
/// the reader forever) and files above `max_bytes`.
pub fn read(path: &Path, max_bytes: u64) -> Result<Intake, Failure> {
    let read_error = |e: std::io::Error| Failure::new(Stage::Read, ErrorKind::Unreadable, describe(&e));
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if !meta.is_file() {
        return Err(Failure::new(
            Stage::Read,
            ErrorKind::Unsupported,
            "not a regular file",
        ));
    }
    if meta.len() > max_bytes {
        return Err(Failure::new(
            Stage::Read,
            ErrorKind::TooLarge,
            format!("file is {} bytes, above the limit of {max_bytes}", meta.len()),
        ));
    }
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.by_ref()
        .take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > max_bytes {
        return Err(Failure::new(
            Stage::Read,
            ErrorKind::TooLarge,
            format!("file grew past the limit of {max_bytes} bytes while being read"),
        ));
    }
    Ok(Intake {
        source_name: source_name(path),
        sha256: sha256_hex(&bytes),
        size: bytes.len() as u64,
        bytes: bytes.into(),
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// An I/O error in words an operator knows, without the path (it may be patient data).
fn describe(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "file not found (moved, deleted or a dangling link)".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        // io::Error text is "message (os error N)": it names no path.
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_like_sha256sum() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn walks_folders_in_order_skipping_hidden_entries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("b/2.png"), b"x").unwrap();
        std::fs::write(dir.path().join("a.tif"), b"x").unwrap();
        std::fs::write(dir.path().join(".DS_Store"), b"x").unwrap();
        std::fs::create_dir(dir.path().join(".hidden")).unwrap();
        std::fs::write(dir.path().join(".hidden/3.png"), b"x").unwrap();
        let files = collect(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.strip_prefix(dir.path()).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.tif", "b/2.png"]);
    }

    #[test]
    fn a_missing_input_stops_the_run() {
        let dir = tempfile::tempdir().unwrap();
        assert!(collect(&[dir.path().join("nope")]).is_err());
    }

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path(), 100).unwrap_err();
        assert_eq!(err.to_string(), "read: not a regular file");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![0u8; 101]).unwrap();
        assert_eq!(read(&big, 100).unwrap_err().kind, ErrorKind::TooLarge);
        let gone = read(&dir.path().join("gone"), 100).unwrap_err();
        assert_eq!(gone.kind, ErrorKind::Unreadable);
    }
}
