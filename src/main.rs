use std::process::ExitCode;

// Linting allocates and frees many small syntax-tree nodes, across threads;
// mimalloc does that markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    straddle::cli::main()
}
