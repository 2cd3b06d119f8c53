mod error;
pub mod maintainers;

pub use error::Error;
