//! The `airlock` binary. As PID 1 of the appliance (started as `/init`) it runs the boot flow;
//! otherwise the command line.

fn main() -> std::process::ExitCode {
    // The `/init` check keeps a container that runs `airlock` as its entrypoint from acting as
    // the appliance.
    if std::process::id() == 1 && std::env::args_os().next().is_some_and(|a| a == "/init") {
        airlock_verifier::init::main_as_init();
    }
    airlock_cli::main()
}
