//! The room of one exporter's queue, counted in items and in bytes: taken when data is accepted,
//! given back once it has been delivered or given up. Senders may wait for room until a deadline.

use std::sync::Mutex;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Items (spans, data points, log records) and encoded bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amount {
    pub items: u64,
    pub bytes: u64,
}

pub struct Capacity {
    limit: Amount,
    used: Mutex<Amount>,
    freed: Notify,
}

impl Capacity {
    pub fn new(limit: Amount) -> Self {
        Self {
            limit,
            used: Mutex::new(Amount::default()),
            freed: Notify::new(),
        }
    }

    /// Takes `wanted` when it fits. An empty queue takes any request, however large, so a
    /// request bigger than the whole queue still passes once the queue has drained.
    pub fn try_take(&self, wanted: Amount) -> bool {
        let mut used = self
            .used
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let fits = |used: u64, wanted: u64, limit: u64| used == 0 || used + wanted <= limit;
        if fits(used.items, wanted.items, self.limit.items)
            && fits(used.bytes, wanted.bytes, self.limit.bytes)
        {
            used.items += wanted.items;
            used.bytes += wanted.bytes;
            true
        } else {
            false
        }
    }

    /// Like [`Capacity::try_take`], waiting for room until `deadline`.
    pub async fn take_by(&self, wanted: Amount, deadline: Instant) -> bool {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if self.try_take(wanted) {
                return true;
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return false;
            }
        }
    }

    /// Takes `amount` even beyond the limit: data already accepted (replayed from disk, or grown
    /// by enrichment) must be counted; new data then waits until the queue is below its limit.
    pub fn take_anyway(&self, amount: Amount) {
        let mut used = self
            .used
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        used.items += amount.items;
        used.bytes += amount.bytes;
    }

    pub fn give_back(&self, amount: Amount) {
        {
            let mut used = self
                .used
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            used.items = used.items.saturating_sub(amount.items);
            used.bytes = used.bytes.saturating_sub(amount.bytes);
        }
        self.freed.notify_waiters();
    }

    pub fn used(&self) -> Amount {
        *self
            .used
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn amount(items: u64, bytes: u64) -> Amount {
        Amount { items, bytes }
    }

    #[test]
    fn full_in_either_dimension_refuses() {
        let capacity = Capacity::new(amount(10, 1000));
        assert!(capacity.try_take(amount(6, 100)));
        assert!(!capacity.try_take(amount(5, 100)), "items over the limit");
        assert!(!capacity.try_take(amount(1, 901)), "bytes over the limit");
        assert!(capacity.try_take(amount(4, 900)));
        assert_eq!(capacity.used(), amount(10, 1000));
        capacity.give_back(amount(10, 1000));
        assert!(
            capacity.try_take(amount(50, 5000)),
            "an empty queue takes anything"
        );
        assert!(!capacity.try_take(amount(1, 1)));
    }

    #[test]
    fn overdraft_blocks_until_repaid() {
        let capacity = Capacity::new(amount(10, 100));
        capacity.take_anyway(amount(30, 10));
        assert!(!capacity.try_take(amount(1, 1)));
        capacity.give_back(amount(25, 0));
        assert!(capacity.try_take(amount(5, 1)));
    }

    #[tokio::test]
    async fn a_waiting_sender_gets_room_when_it_is_freed() {
        let capacity = std::sync::Arc::new(Capacity::new(amount(10, 100)));
        assert!(capacity.try_take(amount(10, 10)));
        let waiter = {
            let capacity = capacity.clone();
            tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(5);
                capacity.take_by(amount(4, 4), deadline).await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        capacity.give_back(amount(5, 5));
        assert!(waiter.await.unwrap());
        let deadline = Instant::now() + Duration::from_millis(30);
        assert!(!capacity.take_by(amount(4, 4), deadline).await, "times out");
    }
}
