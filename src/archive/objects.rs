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
}
