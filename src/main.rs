use std::process::ExitCode;

fn main() -> ExitCode {
    straddle::cli::main()
}
