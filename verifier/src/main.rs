fn main() {
    // On the appliance the kernel runs this binary as /init (PID 1).
    if std::process::id() == 1 && std::env::args_os().next().is_some_and(|a| a == "/init") {
        airlock::init::main_as_init();
    }
}
