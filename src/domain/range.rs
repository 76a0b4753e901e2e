//! Inclusive ranges of calendar days (docs/clinical-rules.md "A window": "an inclusive range of calendar days").

use chrono::{NaiveDate, TimeDelta};

/// An inclusive range of patient-local calendar days, `from ..= to`.
/// A range whose `from` is after its `to` is empty (0 days).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Self {
        DateRange { from, to }
    }

    /// Number of calendar days in the range (both ends included); 0 when empty.
    pub fn days(&self) -> u32 {
        let span = (self.to - self.from).num_days() + 1;
        u32::try_from(span.max(0)).unwrap_or(u32::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.from > self.to
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    /// Every date of the range, in order.
    pub fn iter(&self) -> impl Iterator<Item = NaiveDate> {
        let to = self.to;
        self.from.iter_days().take_while(move |d| *d <= to)
    }
}

impl IntoIterator for DateRange {
    type Item = NaiveDate;
    type IntoIter = Box<dyn Iterator<Item = NaiveDate>>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// `date` moved by `days` (negative = earlier), saturating at chrono's date limits instead of
/// panicking: no diary date comes near them, and the pure core must never panic.
pub fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    TimeDelta::try_days(days)
        .and_then(|delta| date.checked_add_signed(delta))
        .unwrap_or(if days < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn range_is_inclusive() {
        let r = DateRange::new(d("2026-02-01"), d("2026-02-28"));
        assert_eq!(r.days(), 28);
        assert!(r.contains(d("2026-02-01")) && r.contains(d("2026-02-28")));
        assert!(!r.contains(d("2026-01-31")) && !r.contains(d("2026-03-01")));
        let dates: Vec<_> = r.iter().collect();
        assert_eq!(dates.len(), 28);
        assert_eq!(dates.first(), Some(&d("2026-02-01")));
        assert_eq!(dates.last(), Some(&d("2026-02-28")));
        assert_eq!(r.into_iter().count(), 28);
    }

    #[test]
    fn single_day_and_empty_ranges() {
        let one = DateRange::new(d("2026-03-01"), d("2026-03-01"));
        assert_eq!(one.days(), 1);
        assert!(!one.is_empty());
        let empty = DateRange::new(d("2026-03-02"), d("2026-03-01"));
        assert_eq!(empty.days(), 0);
        assert!(empty.is_empty());
        assert_eq!(empty.iter().count(), 0);
    }

    #[test]
    fn add_days_saturates() {
        assert_eq!(add_days(d("2026-02-28"), 1), d("2026-03-01"));
        assert_eq!(add_days(d("2026-03-01"), -28), d("2026-02-01"));
        assert_eq!(add_days(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert_eq!(add_days(NaiveDate::MIN, -1), NaiveDate::MIN);
        assert_eq!(add_days(d("2026-01-01"), i64::MAX), NaiveDate::MAX);
    }
}
