mod cmdfile;
mod cond;
mod error;
mod kbuild;
mod kconfig;
mod linkmap;
pub mod maintainers;
#[cfg(test)]
mod testutil;

pub use cond::{Cond, ConfigValues};
pub use error::Error;
pub use kbuild::{Inclusion, KbuildLine};
pub use kconfig::{Definition, Symbol};
