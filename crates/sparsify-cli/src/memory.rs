//! Memory checked before it is allocated: a request that the machine cannot hold is refused
//! with exit 2, naming what it needs and what there is, instead of aborting mid-allocation.
//!
//! What there is: `MemAvailable` of `/proc/meminfo` on Linux (the kernel's estimate of what can
//! be allocated without swapping). Elsewhere, or when it cannot be read, the whole request is
//! reserved once with `Vec::try_reserve_exact` and released at once: the allocator's refusal is
//! then the answer (conservative: it never touches the memory, so it cannot fail later for a
//! reason the probe missed, but it cannot see what other processes will use either).

use std::fmt;

use crate::error::CliError;

/// A request for memory: `per_item` bytes for each of `items`, plus `fixed` bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Need {
    per_item: f64,
    items: usize,
    /// What the items are (`weights`, `grid points`).
    noun: &'static str,
}

impl Need {
    /// `per_item` bytes for each of `items` (`noun` says what they are).
    pub(crate) fn bytes(per_item: u64, items: usize, noun: &'static str) -> Self {
        Self::per_item(per_item as f64, items, noun)
    }

    /// `per_item` (possibly fractional, an average) bytes for each of `items`.
    pub(crate) fn per_item(per_item: f64, items: usize, noun: &'static str) -> Self {
        Self {
            per_item,
            items,
            noun,
        }
    }

    /// The total, in bytes (a float: `items` times `per_item` may exceed any integer type the
    /// allocator takes).
    pub(crate) fn total(self) -> f64 {
        self.per_item * self.items as f64
    }
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "about {} of memory ({} bytes for each of {} {})",
            human(self.total()),
            trim_float(self.per_item),
            self.items,
            self.noun
        )
    }
}

/// Refuses `need` if the machine does not have it; `what` names the flag and value that ask
/// for it (e.g. `--m 1e10`).
///
/// # Errors
/// A usage error naming `what`, the memory needed and the memory available.
pub(crate) fn check(what: &str, need: Need) -> Result<(), CliError> {
    // Below this a request is never worth a question: every machine this runs on has it.
    const ALWAYS_FINE: f64 = 64.0 * 1024.0 * 1024.0;
    let total = need.total();
    if total <= ALWAYS_FINE {
        return Ok(());
    }
    match available() {
        Some(avail) if total <= avail as f64 => Ok(()),
        Some(avail) => Err(CliError::usage(format!(
            "{what}: needs {need}, and {} is available (MemAvailable); use a smaller size",
            human(avail as f64)
        ))),
        None => {
            // No figure to compare with: ask the allocator for the whole request.
            let fits = usize::try_from(total as u128)
                .ok()
                .is_some_and(|bytes| Vec::<u8>::new().try_reserve_exact(bytes).is_ok());
            if fits {
                Ok(())
            } else {
                Err(CliError::usage(format!(
                    "{what}: needs {need}, which the system refuses to allocate; use a smaller \
                     size"
                )))
            }
        }
    }
}

/// The memory available for new allocations, in bytes, if the system says.
pub(crate) fn available() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        parse_mem_available(&text)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// `MemAvailable:  123456 kB` in bytes.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut fields = line.split_whitespace().skip(1);
    let kb: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") | None => kb.checked_mul(1024),
        Some(_) => None,
    }
}

/// Bytes as people read them: `1.5 GB`, `80 GB`, `512 MB` (powers of 1000, three digits).
pub(crate) fn human(bytes: f64) -> String {
    let units = [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)];
    for (unit, size) in units {
        if bytes >= size {
            return format!("{} {unit}", three_digits(bytes / size));
        }
    }
    format!("{bytes:.0} bytes")
}

fn three_digits(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn trim_float(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_available_is_read_in_bytes() {
        let text = "MemTotal:       24000000 kB\nMemFree: 1 kB\nMemAvailable:   22000000 kB\n";
        assert_eq!(parse_mem_available(text), Some(22_000_000 * 1024));
        assert_eq!(parse_mem_available("MemTotal: 5 kB\n"), None);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(8e10), "80.0 GB");
        assert_eq!(human(1.5e9), "1.50 GB");
        assert_eq!(human(512e6), "512 MB");
        assert_eq!(human(100.0), "100 bytes");
    }

    #[test]
    fn a_request_beyond_any_machine_is_refused() {
        // 8 bytes for each of 2^60 items: 9.2e18 bytes, more than any machine has.
        let e = check("--m 2^60", Need::bytes(8, 1 << 60, "weights")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("--m 2^60") && msg.contains("needs about"),
            "{msg}"
        );
        assert!(check("--m 10", Need::bytes(8, 10, "weights")).is_ok());
    }
}
