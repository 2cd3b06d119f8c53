//! Errors: one line each, saying what is wrong and what to do about it.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can stop an index from being built or loaded.
#[derive(Debug)]
pub enum Error {
    /// The directory is not an out-of-tree kernel build (no `.config`, no
    /// `source` link, no `Makefile`).
    NotABuildTree { dir: PathBuf, missing: &'static str },
    /// `System.map` is missing: the build did not finish.
    NoSystemMap { dir: PathBuf },
    /// `vmlinux.map` is missing: the kernel was built without `CONFIG_VMLINUX_MAP`.
    NoLinkMap { dir: PathBuf },
    /// The linker map names no object file with code in it.
    NoObjects { dir: PathBuf },
    /// A file the index needs could not be read.
    Io { path: PathBuf, error: io::Error },
    /// A line of a file the index needs does not have the expected form.
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A line of MAINTAINERS that `get_maintainer.pl` could not use either.
    Maintainers {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// The cache file could not be written.
    CacheWrite { path: PathBuf, error: io::Error },
    /// A trace was recorded on another kernel than the one built in the tree.
    ReleaseMismatch {
        dir: PathBuf,
        tree: String,
        trace: String,
    },
    /// The same release, another build of it (`uname -v` against the
    /// tree's `UTS_VERSION`): e.g. rebuilt with another `.config`.
    BuildMismatch {
        dir: PathBuf,
        tree: String,
        trace: String,
    },
}

/// What an error is about, for callers that give each its own exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No usable build tree: missing, unfinished, without objects or maps,
    /// unreadable, or the cache cannot be written.
    Tree,
    /// A usable tree, but not of the traced kernel.
    OtherKernel,
    /// A file of the tree (a map, MAINTAINERS, a `.cmd` file) is damaged.
    Damaged,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotABuildTree { .. }
            | Error::NoSystemMap { .. }
            | Error::NoLinkMap { .. }
            | Error::NoObjects { .. }
            | Error::Io { .. }
            | Error::CacheWrite { .. } => ErrorKind::Tree,
            Error::ReleaseMismatch { .. } | Error::BuildMismatch { .. } => ErrorKind::OtherKernel,
            Error::Parse { .. } | Error::Maintainers { .. } => ErrorKind::Damaged,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, error: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            error,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotABuildTree { dir, missing } => write!(
                f,
                "{} is not a kernel build tree (no {missing}): give the directory of an out-of-tree build made with `make O=DIR`",
                dir.display()
            ),
            Error::NoSystemMap { dir } => write!(
                f,
                "{} has no System.map: finish the kernel build (`make O={}`) first",
                dir.display(),
                dir.display()
            ),
            Error::NoLinkMap { dir } => write!(
                f,
                "{} has no vmlinux.map: build the kernel with CONFIG_VMLINUX_MAP=y (it needs CONFIG_EXPERT=y)",
                dir.display()
            ),
            Error::NoObjects { dir } => write!(
                f,
                "{}/vmlinux.map names no object file with code: rebuild vmlinux in this tree",
                dir.display()
            ),
            Error::Io { path, error } => write!(f, "cannot read {}: {error}", path.display()),
            Error::Parse {
                path,
                line,
                message,
            } => write!(
                f,
                "{}:{line}: {message}: the file is damaged, rebuild the kernel",
                path.display()
            ),
            Error::Maintainers {
                path,
                line,
                message,
            } => write!(
                f,
                "{}:{line}: {message}: fix this MAINTAINERS line (scripts/get_maintainer.pl cannot use it either)",
                path.display()
            ),
            Error::CacheWrite { path, error } => write!(
                f,
                "cannot write the index cache {}: {error}: choose a writable cache path",
                path.display()
            ),
            Error::ReleaseMismatch { dir, tree, trace } => write!(
                f,
                "the trace was recorded on kernel {trace} but {} holds a build of {tree}: give the build tree of the traced kernel",
                dir.display()
            ),
            Error::BuildMismatch { dir, tree, trace } => write!(
                f,
                "the trace was recorded on the build {trace:?} but {} holds the build {tree:?} of the same release: give the build tree of the traced kernel",
                dir.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { error, .. } | Error::CacheWrite { error, .. } => Some(error),
            _ => None,
        }
    }
}
