//! Airlock's verification core on a Cortex-M4: runs every known-answer vector of
//! `airlock_core::vectors` on QEMU's mps2-an386 and reports over semihosting, one line per vector,
//! then `AIRLOCK-M4: N passed, M failed`, and exits with the semihosting exit status.
//!
//! There is no `#[global_allocator]`: any use of `alloc` fails to link, and `std` does not exist for
//! thumbv7em-none-eabihf. `../qemu-test` also checks the ELF for allocator symbols.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use core::panic::PanicInfo;

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hprintln};

#[entry]
fn main() -> ! {
    let (mut passed, mut failed) = (0usize, 0usize);
    airlock_core::vectors::run_all(&mut |name, ok| {
        hprintln!("{} {}", if ok { "PASS" } else { "FAIL" }, name);
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    });
    let (peak, size) = stack_use();
    hprintln!("AIRLOCK-M4: peak stack {} of {} bytes", peak, size);
    hprintln!("AIRLOCK-M4: {} passed, {} failed", passed, failed);
    exit(failed == 0)
}

/// Peak stack use, from cortex-m-rt's paint (0xCCCCCCCC between `_stack_end` and `_stack_start`):
/// the distance from the top of the stack to the lowest word that is no longer paint.
fn stack_use() -> (usize, usize) {
    extern "C" {
        static _stack_start: u32;
        static _stack_end: u32;
    }
    let top = core::ptr::addr_of!(_stack_start) as usize;
    let bottom = core::ptr::addr_of!(_stack_end) as usize;
    let mut low = bottom;
    while low < top {
        // SAFETY: [bottom, top) is the stack region defined in memory.x, mapped RAM, word aligned;
        // the words below the current stack pointer are not in use by anything else.
        let word = unsafe { core::ptr::read_volatile(low as *const u32) };
        if word != cortex_m_rt::STACK_PAINT_VALUE {
            break;
        }
        low += 4;
    }
    (top - low, top - bottom)
}

fn exit(success: bool) -> ! {
    debug::exit(if success {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    // Not reached under QEMU; a debugger may resume.
    loop {
        cortex_m::asm::bkpt();
    }
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    hprintln!("AIRLOCK-M4: panic: {}", info);
    exit(false)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("AIRLOCK-M4: hard fault at pc {:#010x}", frame.pc());
    exit(false)
}
