//! Runs the known-answer vectors on the host and prints them exactly as the Cortex-M4 test
//! firmware does (`m4-test/`), so that `qemu-test` can compare the two lists line by line.
//!
//! `cargo run -p airlock-core --features vectors --example vectors`

use std::process::ExitCode;

fn main() -> ExitCode {
    let (mut passed, mut failed) = (0usize, 0usize);
    airlock_core::vectors::run_all(&mut |name, ok| {
        println!("{} {name}", if ok { "PASS" } else { "FAIL" });
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    });
    println!("AIRLOCK-HOST: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
