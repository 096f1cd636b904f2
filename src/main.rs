//! The `timmy` binary: everything lives in the library; this file only hands over the arguments
//! and turns the outcome into the process exit code.

fn main() -> std::process::ExitCode {
    timmy::main(std::env::args_os())
}
