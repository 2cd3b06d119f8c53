//! Checks on the results of a real guest boot: `make vm-test` boots the
//! guest once with `vmrun run --checks` (min and min.large with the function
//! tracer, our C test programs (arguments, a dynamic one, threads, fork and
//! exec), a run whose ftrace_it is killed mid-trace and then restored from
//! its journal, min with function_graph, a missing program, a bad CPU, a run
//! while a trace_pipe reader is open, and a console copy of the
//! function_graph trace sent while kernel messages are printed) and runs
//! these tests on what came back (VM_RESULTS=DIR); the bad-input tests run
//! vmrun itself (VMRUN, KERNEL_DIR, VM_INIT, FTRACE_IT, TESTPROGS).

mod common;

mod console;
mod footprint;
mod payloads;
mod runs;
mod traces;
