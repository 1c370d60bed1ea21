//! Panic capture: runs a closure and turns a panic into its message and location.
//!
//! A fuzzer provokes panics on purpose (a planted bug trips an assertion in the level), and
//! shrinking provokes thousands more, so a caught panic must not print. The process-wide
//! panic hook is replaced once by one that stays quiet on a thread while that thread is
//! inside [`catch_panic`], records where the panic happened, and hands every other panic
//! to the hook that was installed before it. Nothing is swapped per call, so nothing can
//! be left behind when a call unwinds.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// A panic [`catch_panic`] caught.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaughtPanic {
    /// The panic's message (`"(non-string panic payload)"` when it had none).
    pub message: String,
    /// `file:line:column` of the panic, when the hook saw it.
    pub location: Option<String>,
}

thread_local! {
    /// How many [`catch_panic`] calls this thread is inside (the hook is quiet while > 0).
    static QUIET_DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The last quiet panic's location, recorded by the hook.
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Marks the current thread as catching panics until dropped (also when unwinding).
struct QuietPanics;

impl QuietPanics {
    fn enter() -> QuietPanics {
        QUIET_DEPTH.with(|depth| depth.set(depth.get() + 1));
        PANIC_LOCATION.with(|location| location.borrow_mut().take());
        QuietPanics
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        QUIET_DEPTH.with(|depth| {
            assert!(depth.get() > 0, "quiet depth underflow");
            depth.set(depth.get() - 1);
        });
    }
}

/// Installs (once per process) the hook described in the [module docs](self).
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET_DEPTH.with(Cell::get) > 0 {
                let location = info.location().map(|l| l.to_string());
                PANIC_LOCATION.with(|slot| *slot.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`; a panic inside it becomes a [`CaughtPanic`] and prints nothing. Panics
/// outside such a call, and on other threads, reach the previous panic hook as usual.
///
/// ```
/// use manifest_level_fuzz::support::panic::catch_panic;
///
/// assert_eq!(catch_panic(|| 5), Ok(5));
/// let caught = catch_panic(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
/// assert_eq!(caught.message, "boom 7");
/// ```
pub fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, CaughtPanic> {
    install_panic_hook();
    let _quiet = QuietPanics::enter();
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let location = PANIC_LOCATION.with(|slot| slot.borrow_mut().take());
        CaughtPanic {
            message: panic_payload_message(payload.as_ref()),
            location,
        }
    })
}

/// The message a panic payload carries.
pub fn panic_payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// `panic: <message>`, as campaign findings record a caught panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    format!("panic: {}", panic_payload_message(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caught_panics_carry_message_and_location_and_end_quiet_mode() {
        let caught = catch_panic(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
        assert_eq!(caught.message, "boom 7");
        assert!(caught.location.unwrap().contains("panic.rs"));
        let caught = catch_panic(|| {
            let values: Vec<u32> = Vec::new();
            values[3]
        })
        .unwrap_err();
        assert!(
            caught.message.contains("index out of bounds"),
            "{}",
            caught.message
        );
        assert_eq!(QUIET_DEPTH.with(Cell::get), 0);
    }

    #[test]
    fn nested_calls_stay_quiet_until_the_outer_one_ends() {
        let outer = catch_panic(|| {
            let inner = catch_panic(|| panic!("inner"));
            assert_eq!(QUIET_DEPTH.with(Cell::get), 1);
            assert_eq!(inner.unwrap_err().message, "inner");
            panic!("outer")
        });
        assert_eq!(outer.unwrap_err().message, "outer");
        assert_eq!(QUIET_DEPTH.with(Cell::get), 0);
    }

    #[test]
    fn payload_messages() {
        assert_eq!(panic_message(&"x"), "panic: x");
        assert_eq!(panic_message(&String::from("y")), "panic: y");
        assert_eq!(panic_message(&5_u32), "panic: (non-string panic payload)");
    }
}
