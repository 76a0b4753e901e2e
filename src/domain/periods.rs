//! Periods of a summary and the per-day calendar (docs/clinical-rules.md "Periods and the calendar").

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::classify::classify;
use super::diary::{one_per_date, DayRecord};
use super::range::{add_days, DateRange};

/// How `/summary` splits its range into periods.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Calendar months, clipped to the range.
    Month,
    /// ISO weeks, Monday to Sunday, clipped to the range.
    Week,
    /// Consecutive 28-day blocks starting at `from`; the last may be shorter.
    #[serde(rename = "28d")]
    Days28,
}

/// Last day of the period that contains `day`.
fn period_end(day: NaiveDate, period: Period) -> NaiveDate {
    match period {
        Period::Month => day
            .with_day(1)
            .and_then(|first| first.checked_add_months(Months::new(1)))
            .and_then(|next| next.pred_opt())
            .unwrap_or(NaiveDate::MAX),
        Period::Week => add_days(day, 6 - i64::from(day.weekday().num_days_from_monday())),
        Period::Days28 => add_days(day, 27),
    }
}

/// Splits `range` into calendar months, ISO weeks (Monday–Sunday) or 28-day blocks counted from
/// `range.from`, each clipped to the range. The periods are contiguous, in order, and cover the
/// range exactly; an empty range gives no period.
pub fn split_periods(range: DateRange, period: Period) -> Vec<DateRange> {
    let mut periods = Vec::new();
    let mut start = range.from;
    while start <= range.to {
        let end = period_end(start, period).min(range.to);
        periods.push(DateRange::new(start, end));
        match end.succ_opt() {
            Some(next) => start = next,
            None => break,
        }
    }
    periods
}

/// How one calendar day counts, for calendars and charts (`/days`). A day without a diary entry
/// has `recorded` false and every flag false: missing, not headache-free.
#[derive(Serialize, ToSchema, Clone, Debug, PartialEq)]
pub struct DayClass {
    /// The patient-local calendar day.
    pub date: NaiveDate,
    /// A diary entry was saved for this day.
    pub recorded: bool,
    /// The entry's `peak_pain` (0–10); null when not recorded.
    #[schema(required = true)]
    pub peak_pain: Option<u8>,
    /// `peak_pain` ≥ 1 (docs/clinical-rules.md "any-headache day").
    pub any_headache: bool,
    /// A headache day: pain ≥ 1 lasting ≥ 4 h, of unrecorded duration or treated; or a migraine day.
    pub headache: bool,
    /// A migraine day: pain ≥ 1 with a migraine-specific drug, aura, or ICHD-3 criteria C and D
    /// lasting ≥ 30 min.
    pub migraine: bool,
    /// A headache day with `peak_pain` ≥ 4.
    pub moderate_severe: bool,
    /// At least one acute medication was taken.
    pub acute_medication: bool,
    /// A triptan, ergot, gepant or ditan was taken.
    pub migraine_specific_medication: bool,
    /// Treatments whose treatment day (patient-local date of `started_at`) is this day.
    pub treatment_ids: Vec<Uuid>,
}

/// One [`DayClass`] per calendar day of `range`, recorded or not, in date order.
/// Records and treatments outside the range are ignored; a date with several records counts
/// one (see `WindowStats::compute`); treatment ids of a day keep their input order.
/// O((d + n) log n): one sort of the records and one of the treatments, then a merge.
pub fn day_classes(
    range: DateRange,
    days: &[DayRecord],
    treatment_days: &[(Uuid, NaiveDate)],
) -> Vec<DayClass> {
    let records = one_per_date(range, days);
    let mut treatments: Vec<&(Uuid, NaiveDate)> = treatment_days
        .iter()
        .filter(|(_, day)| range.contains(*day))
        .collect();
    treatments.sort_by_key(|(_, day)| *day); // stable: ids keep their order within a day

    let mut records = records.into_iter().peekable();
    let mut treatments = treatments.into_iter().peekable();
    let mut out = Vec::with_capacity(range.days() as usize);
    for date in range.iter() {
        let record = records.next_if(|r| r.date == date);
        let mut treatment_ids = Vec::new();
        while let Some((id, _)) = treatments.next_if(|(_, day)| *day == date) {
            treatment_ids.push(*id);
        }
        let c = record.map(classify).unwrap_or_default();
        out.push(DayClass {
            date,
            recorded: record.is_some(),
            peak_pain: record.map(|r| r.peak_pain),
            any_headache: c.any_headache,
            headache: c.headache,
            migraine: c.migraine,
            moderate_severe: c.moderate_severe,
            acute_medication: c.acute_medication,
            migraine_specific_medication: c.migraine_specific_medication,
            treatment_ids,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::diary::{HeadacheFeatures, MedicationClass, MedicationClassSet};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn r(from: &str, to: &str) -> DateRange {
        DateRange::new(d(from), d(to))
    }

    #[test]
    fn months_are_calendar_months_clipped() {
        assert_eq!(
            split_periods(r("2026-01-15", "2026-03-10"), Period::Month),
            vec![
                r("2026-01-15", "2026-01-31"),
                r("2026-02-01", "2026-02-28"),
                r("2026-03-01", "2026-03-10"),
            ]
        );
        assert_eq!(
            split_periods(r("2023-12-01", "2024-02-29"), Period::Month),
            vec![
                r("2023-12-01", "2023-12-31"),
                r("2024-01-01", "2024-01-31"),
                r("2024-02-01", "2024-02-29"),
            ]
        );
    }

    #[test]
    fn weeks_are_iso_monday_to_sunday_clipped() {
        // 2026-03-04 is a Wednesday
        assert_eq!(
            split_periods(r("2026-03-04", "2026-03-17"), Period::Week),
            vec![
                r("2026-03-04", "2026-03-08"),
                r("2026-03-09", "2026-03-15"),
                r("2026-03-16", "2026-03-17"),
            ]
        );
        // across a year end: ISO week 1 of 2026 starts Monday 2025-12-29
        assert_eq!(
            split_periods(r("2025-12-29", "2026-01-04"), Period::Week),
            vec![r("2025-12-29", "2026-01-04")]
        );
    }

    #[test]
    fn blocks_of_28_days_from_from() {
        assert_eq!(
            split_periods(r("2026-01-10", "2026-03-15"), Period::Days28),
            vec![
                r("2026-01-10", "2026-02-06"),
                r("2026-02-07", "2026-03-06"),
                r("2026-03-07", "2026-03-15"),
            ]
        );
    }

    #[test]
    fn empty_range_has_no_period_and_single_day_has_one() {
        assert!(split_periods(r("2026-01-02", "2026-01-01"), Period::Month).is_empty());
        assert_eq!(
            split_periods(r("2026-01-01", "2026-01-01"), Period::Week),
            vec![r("2026-01-01", "2026-01-01")]
        );
        // no infinite loop at the end of time
        let end = DateRange::new(add_days(NaiveDate::MAX, -3), NaiveDate::MAX);
        assert_eq!(split_periods(end, Period::Days28), vec![end]);
    }

    #[test]
    fn period_serde_names() {
        assert_eq!(serde_json::to_string(&Period::Days28).unwrap(), "\"28d\"");
        assert_eq!(serde_json::to_string(&Period::Month).unwrap(), "\"month\"");
        assert_eq!(
            serde_json::from_str::<Period>("\"week\"").unwrap(),
            Period::Week
        );
        assert!(serde_json::from_str::<Period>("\"days28\"").is_err());
    }

    #[test]
    fn day_classes_cover_every_day_with_treatments() {
        let rec = |date: &str, pain: u8, meds: &[MedicationClass]| DayRecord {
            date: d(date),
            peak_pain: pain,
            headache_hours: None,
            features: HeadacheFeatures::default(),
            medication_classes: meds.iter().copied().collect::<MedicationClassSet>(),
        };
        let days = vec![
            rec("2026-03-03", 5, &[MedicationClass::Triptan]),
            rec("2026-03-01", 0, &[]),
            rec("2026-02-28", 9, &[]), // outside
        ];
        let (t1, t2, t3) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let treatments = [
            (t2, d("2026-03-02")),
            (t3, d("2026-03-05")),
            (t1, d("2026-03-02")),
        ];
        let out = day_classes(r("2026-03-01", "2026-03-04"), &days, &treatments);
        assert_eq!(out.len(), 4);
        assert_eq!(
            out.iter().map(|c| c.date).collect::<Vec<_>>(),
            r("2026-03-01", "2026-03-04").iter().collect::<Vec<_>>()
        );
        // recorded, headache-free
        assert!(out[0].recorded && out[0].peak_pain == Some(0) && !out[0].any_headache);
        // missing: everything false, null pain, but the treatment is there
        assert!(!out[1].recorded && out[1].peak_pain.is_none() && !out[1].headache);
        assert_eq!(out[1].treatment_ids, vec![t2, t1]);
        // triptan day
        let c = &out[2];
        assert!(c.recorded && c.any_headache && c.headache && c.migraine && c.moderate_severe);
        assert!(c.acute_medication && c.migraine_specific_medication);
        assert!(c.treatment_ids.is_empty());
        assert!(!out[3].recorded);
    }
}
