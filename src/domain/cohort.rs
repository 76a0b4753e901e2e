//! Pooling before/after outcomes over many treatments (docs/clinical-rules.md "Cohort").

use serde::Serialize;
use utoipa::ToSchema;

use super::treatment::TreatmentOutcome;
use super::window::ratio;

/// Pooled before/after outcomes of a set of treatments (docs/clinical-rules.md "Cohort"); the HTTP layer adds
/// `kind`, `window_days`, `treatments` and `patients` to make a `CohortSummary`.
#[derive(Serialize, ToSchema, Clone, Debug, PartialEq)]
pub struct CohortOutcome {
    /// Treatments with both windows sufficient (≥ 80 % recorded) and baseline
    /// `headache_days_per_28` > 0; every figure below is over these.
    pub included: u32,
    /// Treatments left out because the baseline or the post window is under 80 % recorded.
    pub excluded_insufficient_data: u32,
    /// Treatments with sufficient data left out because the baseline had no headache day
    /// (a relative change is undefined).
    pub excluded_no_baseline_headache: u32,
    /// Mean baseline `headache_days_per_28`; null when nothing is included.
    #[schema(required = true)]
    pub mean_baseline_headache_days_per_28: Option<f64>,
    /// Mean post `headache_days_per_28`; null when nothing is included.
    #[schema(required = true)]
    pub mean_post_headache_days_per_28: Option<f64>,
    /// Mean of `change.headache_days_per_28` (post − baseline; negative = fewer headache days);
    /// null when nothing is included.
    #[schema(required = true)]
    pub mean_change: Option<f64>,
    /// Median of `change.headache_days_per_28` (mean of the two middle values for an even
    /// count); null when nothing is included.
    #[schema(required = true)]
    pub median_change: Option<f64>,
    /// Share (0–1) of included treatments that are 50 % responders; null when nothing is included.
    #[schema(required = true)]
    pub responder_50_rate: Option<f64>,
    /// Share (0–1) of included treatments that are 75 % responders; null when nothing is included.
    #[schema(required = true)]
    pub responder_75_rate: Option<f64>,
    /// Share (0–1) of pain responders (mean peak pain down ≥ 2 points) among the included
    /// treatments whose `pain_responder` is not null; null when there are none.
    #[schema(required = true)]
    pub pain_responder_rate: Option<f64>,
}

/// Pools the outcomes of the matching treatments (docs/clinical-rules.md "Cohort"). A treatment is included
/// when both windows are sufficient and its baseline `headache_days_per_28` > 0; otherwise it
/// counts in `excluded_insufficient_data` (either window under 80 %) or, failing only the
/// baseline, in `excluded_no_baseline_headache`. Linear time except the median's sort.
pub fn pool_outcomes<'a>(
    outcomes: impl IntoIterator<Item = &'a TreatmentOutcome>,
) -> CohortOutcome {
    let mut included = 0u32;
    let mut excluded_insufficient_data = 0u32;
    let mut excluded_no_baseline_headache = 0u32;
    let (mut baseline_sum, mut post_sum, mut change_sum) = (0.0, 0.0, 0.0);
    let mut changes = Vec::new();
    let (mut responder_50, mut responder_75) = (0u32, 0u32);
    let (mut pain_known, mut pain_responders) = (0u32, 0u32);

    for o in outcomes {
        if !(o.baseline.is_sufficient() && o.post.is_sufficient()) {
            excluded_insufficient_data += 1;
            continue;
        }
        let (Some(baseline), Some(post)) =
            (o.baseline.headache_days_per_28, o.post.headache_days_per_28)
        else {
            // unreachable for a sufficient window of at least one day; count it as insufficient
            excluded_insufficient_data += 1;
            continue;
        };
        if baseline <= 0.0 {
            excluded_no_baseline_headache += 1;
            continue;
        }
        included += 1;
        let change = post - baseline;
        baseline_sum += baseline;
        post_sum += post;
        change_sum += change;
        changes.push(change);
        responder_50 += u32::from(o.responder_50 == Some(true));
        responder_75 += u32::from(o.responder_75 == Some(true));
        if let Some(pain) = o.pain_responder {
            pain_known += 1;
            pain_responders += u32::from(pain);
        }
    }

    let n = f64::from(included);
    CohortOutcome {
        included,
        excluded_insufficient_data,
        excluded_no_baseline_headache,
        mean_baseline_headache_days_per_28: ratio(baseline_sum, n),
        mean_post_headache_days_per_28: ratio(post_sum, n),
        mean_change: ratio(change_sum, n),
        median_change: median(&mut changes),
        responder_50_rate: ratio(f64::from(responder_50), n),
        responder_75_rate: ratio(f64::from(responder_75), n),
        pain_responder_rate: ratio(f64::from(pain_responders), f64::from(pain_known)),
    }
}

/// Median (mean of the two middle values for an even count); `None` when empty.
fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_unstable_by(f64::total_cmp);
    let mid = values.len() / 2;
    match values.len() {
        0 => None,
        len if len % 2 == 1 => values.get(mid).copied(),
        _ => match (values.get(mid - 1), values.get(mid)) {
            (Some(a), Some(b)) => Some((a + b) / 2.0),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::diary::{DayRecord, HeadacheFeatures, MedicationClassSet};
    use crate::domain::range::DateRange;
    use crate::domain::treatment::{treatment_outcome, TreatmentWindows};
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// A 28-day outcome: `base` headache days (pain `base_pain`) in a fully recorded baseline,
    /// `post` headache days (pain `post_pain`) in a post window with `post_recorded` days recorded.
    fn outcome(
        base: usize,
        base_pain: u8,
        post: usize,
        post_pain: u8,
        post_recorded: usize,
    ) -> TreatmentOutcome {
        let w = TreatmentWindows::new(d("2026-03-01"), 28, 1);
        let fill = |range: DateRange, n: usize, pain: u8, take: usize| {
            range
                .iter()
                .take(take)
                .enumerate()
                .map(|(i, date)| DayRecord {
                    date,
                    peak_pain: if i < n { pain } else { 0 },
                    headache_hours: None,
                    features: HeadacheFeatures::default(),
                    medication_classes: MedicationClassSet::default(),
                })
                .collect::<Vec<_>>()
        };
        let mut days = fill(w.baseline, base, base_pain, 28);
        days.extend(fill(w.post(), post, post_pain, post_recorded));
        treatment_outcome(&w, &days)
    }

    #[test]
    fn pools_included_treatments_with_even_median_and_exclusions() {
        let outcomes = [
            outcome(12, 6, 4, 3, 28), // change −8, r50 yes, r75 no, pain −3 → yes
            outcome(10, 5, 8, 5, 28), // change −2, r50 no, pain 0 → no
            outcome(8, 7, 0, 0, 28),  // change −8, r50 & r75 yes, pain null (no post headache)
            outcome(4, 5, 6, 5, 28),  // change +2, pain 0 → no
            outcome(12, 6, 2, 3, 20), // post 20/28 < 0.8: insufficient
            outcome(0, 0, 3, 5, 28),  // baseline 0: no baseline headache
            outcome(0, 0, 3, 5, 10),  // both failing: insufficient wins
        ];
        let c = pool_outcomes(&outcomes);
        assert_eq!(c.included, 4);
        assert_eq!(c.excluded_insufficient_data, 2);
        assert_eq!(c.excluded_no_baseline_headache, 1);
        assert_eq!(c.mean_baseline_headache_days_per_28, Some(8.5));
        assert_eq!(c.mean_post_headache_days_per_28, Some(4.5));
        assert_eq!(c.mean_change, Some(-4.0));
        // changes sorted: −8, −8, −2, +2 → (−8 + −2) / 2
        assert_eq!(c.median_change, Some(-5.0));
        assert_eq!(c.responder_50_rate, Some(0.5));
        assert_eq!(c.responder_75_rate, Some(0.25));
        // pain known for 3 of the 4, one responder
        assert_eq!(c.pain_responder_rate, Some(1.0 / 3.0));
    }

    #[test]
    fn odd_count_median_is_the_middle_value() {
        let outcomes = [
            outcome(12, 6, 4, 3, 28),
            outcome(10, 5, 8, 5, 28),
            outcome(4, 5, 6, 5, 28),
        ];
        assert_eq!(pool_outcomes(&outcomes).median_change, Some(-2.0));
    }

    #[test]
    fn nothing_included_gives_nulls() {
        let c = pool_outcomes(&[outcome(0, 0, 3, 5, 28)]);
        assert_eq!(c.included, 0);
        assert_eq!(c.excluded_no_baseline_headache, 1);
        assert_eq!(c.mean_baseline_headache_days_per_28, None);
        assert_eq!(c.mean_post_headache_days_per_28, None);
        assert_eq!(c.mean_change, None);
        assert_eq!(c.median_change, None);
        assert_eq!(c.responder_50_rate, None);
        assert_eq!(c.responder_75_rate, None);
        assert_eq!(c.pain_responder_rate, None);
        let empty = pool_outcomes(std::iter::empty());
        assert_eq!(empty.included + empty.excluded_insufficient_data, 0);
    }
}
