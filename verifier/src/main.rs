//! The `airlock` binary. As PID 1 on the appliance it runs the boot flow; otherwise the CLI.

fn main() -> std::process::ExitCode {
    airlock::cli::main()
}
