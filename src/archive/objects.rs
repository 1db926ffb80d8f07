//! Originals stored byte-identical under their SHA-256: `objects/ab/cdef...`.
//!
//! A write goes to a temporary file in the same folder, is fsynced, renamed into place and the
//! folder fsynced, so a crash leaves either no object or a whole one. Storing an object that is
//! already there is a no-op.

use std::io::Write;
use std::path::{Path, PathBuf};

pub fn path(archive_dir: &Path, sha256: &str) -> PathBuf {
    let (fan, rest) = sha256.split_at(2.min(sha256.len()));
    archive_dir.join("objects").join(fan).join(rest)
}

pub fn store(archive_dir: &Path, sha256: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let target = path(archive_dir, sha256);
    if std::fs::metadata(&target).is_ok_and(|m| m.len() == bytes.len() as u64) {
        return Ok(target);
    }
    let folder = target.parent().expect("object paths have a parent");
    std::fs::create_dir_all(folder)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".incoming-")
        .tempfile_in(folder)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    std::fs::File::open(folder)?.sync_all()?;
    Ok(target)
}

/// Removes the temporary files of object writes that a killed process left behind (older than
/// `older_than`, so a write under way in another process is never touched); returns how many.
pub fn sweep_incoming(archive_dir: &Path, older_than: std::time::Duration) -> std::io::Result<usize> {
    let mut removed = 0;
    let Ok(fans) = std::fs::read_dir(archive_dir.join("objects")) else {
        return Ok(0);
    };
    for fan in fans.flatten() {
        if !fan.file_type()?.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(fan.path())?.flatten() {
            let stale = entry.file_name().to_string_lossy().starts_with(".incoming-")
                && entry
                    .metadata()?
                    .modified()?
                    .elapsed()
                    .is_ok_and(|age| age >= older_than);
            if stale {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_by_hash_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let sha = crate::intake::sha256_hex(b"scan");
        let stored = store(dir.path(), &sha, b"scan").unwrap();
        assert_eq!(stored, dir.path().join("objects").join(&sha[..2]).join(&sha[2..]));
        assert_eq!(std::fs::read(&stored).unwrap(), b"scan");
        store(dir.path(), &sha, b"scan").unwrap();
        let leftovers = std::fs::read_dir(stored.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1);
    }

    #[test]
    fn stale_temporary_objects_are_swept_and_fresh_ones_and_objects_kept() {
        let dir = tempfile::tempdir().unwrap();
        let sha = crate::intake::sha256_hex(b"scan");
        let stored = store(dir.path(), &sha, b"scan").unwrap();
        let leftover = stored.parent().unwrap().join(".incoming-abc123");
        std::fs::write(&leftover, b"half a sca").unwrap();
        let hour = std::time::Duration::from_secs(3600);
        assert_eq!(
            sweep_incoming(dir.path(), hour).unwrap(),
            0,
            "too fresh: maybe being written"
        );
        assert_eq!(sweep_incoming(dir.path(), std::time::Duration::ZERO).unwrap(), 1);
        assert!(!leftover.exists() && stored.exists());
    }
}
