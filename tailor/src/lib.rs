//! The tailoring loop and its parts: which Kconfig symbols are required
//! and why, which of them Kconfig honoured, how the footprint on the
//! tailored kernel differs from the one on the starting kernel, the
//! bisection over the options it lacks, and the loop that drives kernel
//! builds (`scripts/kernel.sh`) and boots (the vmrun library) through them.

pub mod bisect;
pub mod compare;
pub mod evidence;
pub mod footprint;
pub mod lab;
pub mod names;
pub mod required;
pub mod table;
pub mod tailoring;
