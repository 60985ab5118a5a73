//! Readiness: up once start-up is complete, down again when shutdown begins or while the memory
//! limiter refuses data.

use std::sync::atomic::{AtomicBool, Ordering};

/// Readiness, flipped once start-up is complete and back when shutdown begins; false too while
/// the memory limiter refuses data.
#[derive(Default)]
pub struct Health {
    ready: AtomicBool,
    memory_pressure: AtomicBool,
}

impl Health {
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }
    pub fn set_memory_pressure(&self, pressure: bool) {
        self.memory_pressure.store(pressure, Ordering::SeqCst);
    }
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst) && !self.memory_pressure.load(Ordering::SeqCst)
    }
}
