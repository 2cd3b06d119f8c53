//! The index on disk: JSON with a format number and the identity (size and
//! modification time) of the files it was made from, so that a rebuilt
//! kernel or an edited MAINTAINERS makes it stale.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::index::{identity, source_dir, KernelIndex, FORMAT};

/// Where the index of a build tree is kept between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cache {
    /// `DIR/.kernel_index.json` in the build tree.
    InBuildTree,
    /// This file.
    At(PathBuf),
    /// Nowhere: index every time.
    Off,
}

/// The file name of [`Cache::InBuildTree`].
pub const CACHE_FILE: &str = ".kernel_index.json";

/// What [`KernelIndex::open`] did with the cache.
#[derive(Debug)]
pub enum CacheUse {
    /// The cached index was current and was used.
    Loaded(PathBuf),
    /// The tree was indexed and the index written there.
    Written(PathBuf),
    /// The tree was indexed; the cache could not be written (the index is
    /// still good).
    NotWritten(Error),
    /// [`Cache::Off`].
    Off,
}

impl KernelIndex {
    /// The index of a build tree: the cached one when it is current, else
    /// made now (and cached).
    pub fn open(build_dir: &Path, cache: &Cache) -> Result<(KernelIndex, CacheUse), Error> {
        let path = match cache {
            Cache::Off => return Ok((KernelIndex::build(build_dir)?, CacheUse::Off)),
            Cache::InBuildTree => build_dir.join(CACHE_FILE),
            Cache::At(p) => p.clone(),
        };
        if let Some(index) = KernelIndex::load(&path, build_dir) {
            return Ok((index, CacheUse::Loaded(path)));
        }
        let index = KernelIndex::build(build_dir)?;
        let used = match index.save(&path) {
            Ok(()) => CacheUse::Written(path),
            Err(e) => CacheUse::NotWritten(e),
        };
        Ok((index, used))
    }

    /// A cached index, if it is of this format and of the tree as it is now.
    pub fn load(path: &Path, build_dir: &Path) -> Option<KernelIndex> {
        let bytes = std::fs::read(path).ok()?;
        let mut index: KernelIndex = serde_json::from_slice(&bytes).ok()?;
        let build = std::fs::canonicalize(build_dir).ok()?;
        let source = source_dir(&build).ok()?;
        if index.format != FORMAT
            || index.build_dir() != build
            || index.source_dir() != source
            || index.identity != identity(&build, &source)
        {
            return None;
        }
        index.finish();
        Some(index)
    }

    /// Writes the index (to a temporary file renamed into place, so that a
    /// reader never sees half of it).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let fail = |error| Error::CacheWrite {
            path: path.to_path_buf(),
            error,
        };
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let file = std::fs::File::create(&tmp).map_err(fail)?;
        let mut w = BufWriter::new(file);
        serde_json::to_writer(&mut w, self).map_err(|e| fail(e.into()))?;
        w.flush().map_err(fail)?;
        drop(w);
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(e)
        })
    }
}
