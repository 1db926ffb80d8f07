//! Trained document-type models kept in the archive: `models/doctype-<version>.json` for every
//! model trained, and `models/doctype.json`, the one in use. Writes are atomic (temporary file,
//! fsync, rename).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::Archive;
use crate::classify::ModelFile;

impl Archive {
    pub fn models_dir(&self) -> PathBuf {
        self.dir().join("models")
    }

    /// The archive's model in use, if it has one.
    pub fn current_model(&self) -> anyhow::Result<Option<ModelFile>> {
        let path = self.models_dir().join("doctype.json");
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let model = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        Ok(Some(model))
    }

    /// Stores `model` under its version and makes it the one in use; returns the versioned path.
    pub fn save_model(&self, model: &ModelFile) -> anyhow::Result<PathBuf> {
        let dir = self.models_dir();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let json = serde_json::to_vec(model)?;
        let versioned = dir.join(format!("doctype-{}.json", model.version));
        write_atomically(&versioned, &json)?;
        write_atomically(&dir.join("doctype.json"), &json)?;
        Ok(versioned)
    }
}

pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("a path without a folder")?;
    let mut tmp = tempfile::Builder::new().prefix(".incoming-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}
