//! An index of a Linux kernel build tree (an out-of-tree build made with
//! `make O=DIR`, its `source` link pointing at the sources) that maps each
//! function of vmlinux to the object it was linked from, that object to its
//! source files, each source file to its MAINTAINERS sections, and the
//! object to the Kconfig condition under which Kbuild builds it and the
//! Kconfig symbols its code reads.
//!
//! ```no_run
//! use kernel_index::{Cache, KernelIndex, Lookup};
//! let (index, _) = KernelIndex::open("build".as_ref(), &Cache::InBuildTree)?;
//! if let Lookup::Unique(f) = index.lookup("do_sys_openat2") {
//!     let object = f.object.expect("linked from an object");
//!     for source in &object.sources {
//!         for m in source.most_specific() {
//!             println!("{} {}", source.path, index.section(*m).name);
//!         }
//!     }
//!     println!("built when {}", index.build_condition(object));
//! }
//! # Ok::<(), kernel_index::Error>(())
//! ```

mod cache;
mod cmdfile;
mod cond;
mod error;
#[cfg(feature = "fake-tree")]
pub mod fake_tree;
mod index;
mod kbuild;
mod kconfig;
mod linkmap;
pub mod maintainers;
pub mod preproc;
#[cfg(test)]
mod testutil;

pub use cache::{Cache, CacheUse, CACHE_FILE};
pub use cond::{Cond, ConfigValues};
pub use error::{Error, ErrorKind};
pub use index::{
    Function, InputSection, KernelIndex, Linked, Lookup, MaintainersSection, Match, Object,
    SourceFile, Stats, TextSymbol,
};
pub use kbuild::{Inclusion, KbuildLine};
pub use kconfig::{Definition, Symbol};
