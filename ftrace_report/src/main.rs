//! `ftrace_report`: the kernel footprint of one program from an ftrace trace.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    let res = match cli::args::parse(std::env::args_os().skip(1).collect()) {
        Ok(cli::args::Parsed::Print(s)) => cli::trace::write_out(s.as_bytes()).map(|_| 0),
        Ok(cli::args::Parsed::Run(a)) => cli::run(&a),
        Err(e) => Err(e),
    };
    match res {
        Ok(code) => ExitCode::from(code),
        Err((code, msg)) => {
            eprintln!("ftrace_report: {msg}");
            ExitCode::from(code)
        }
    }
}
