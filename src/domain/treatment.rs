//! Before and after a treatment (docs/clinical-rules.md "Before and after a treatment").

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::diary::DayRecord;
use super::range::{add_days, DateRange};
use super::window::{ratio, WindowStats};

/// Default `window_days` N of a before/after comparison (IHS: a 28-day month).
pub const DEFAULT_WINDOW_DAYS: u32 = 28;
/// Smallest `window_days` the API accepts.
pub const MIN_WINDOW_DAYS: u32 = 7;
/// Largest `window_days` the API accepts.
pub const MAX_WINDOW_DAYS: u32 = 90;
/// Default number of consecutive post windows (`followup_windows`).
pub const DEFAULT_FOLLOWUP_WINDOWS: u32 = 1;
/// Most `followup_windows` the API accepts (Ket Head: days 1–28, 29–56, 57–84).
pub const MAX_FOLLOWUP_WINDOWS: u32 = 3;

/// Responder_50: post headache days per 28 at most this share of baseline (inclusive).
pub const RESPONDER_50_RATIO: f64 = 0.5;
/// Responder_75: post headache days per 28 at most this share of baseline (inclusive).
pub const RESPONDER_75_RATIO: f64 = 0.25;
/// Pain responder: mean peak pain falls by at least 2 points (Jefferson ketamine studies).
pub const PAIN_RESPONDER_CHANGE: f64 = -2.0;

/// The treatment day T: the patient-local calendar date of the treatment's `started_at`
/// (docs/clinical-rules.md worked example C).
pub fn treatment_day(started_at: DateTime<Utc>, tz: chrono_tz::Tz) -> NaiveDate {
    started_at.with_timezone(&tz).date_naive()
}

/// The windows compared around one treatment day T with `window_days` N.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreatmentWindows {
    pub treatment_day: NaiveDate,
    pub window_days: u32,
    /// T−N … T−1.
    pub baseline: DateRange,
    /// K consecutive windows T+1 … T+N, T+N+1 … T+2N, …; the first is `post`.
    pub followup: Vec<DateRange>,
}

impl TreatmentWindows {
    /// Builds the baseline and follow-up windows. The HTTP layer rejects out-of-range values
    /// with 422; here `window_days` is clamped to 7–90 and `followup_windows` to 1–3, so the
    /// value can never describe windows the rules do not define (and `followup` is never empty).
    pub fn new(treatment_day: NaiveDate, window_days: u32, followup_windows: u32) -> Self {
        let n = window_days.clamp(MIN_WINDOW_DAYS, MAX_WINDOW_DAYS);
        let k = followup_windows.clamp(1, MAX_FOLLOWUP_WINDOWS);
        let n64 = i64::from(n);
        let baseline = DateRange::new(add_days(treatment_day, -n64), add_days(treatment_day, -1));
        let followup = (0..i64::from(k))
            .map(|i| {
                DateRange::new(
                    add_days(treatment_day, i * n64 + 1),
                    add_days(treatment_day, (i + 1) * n64),
                )
            })
            .collect();
        TreatmentWindows {
            treatment_day,
            window_days: n,
            baseline,
            followup,
        }
    }

    /// T+1 … T+N, the first follow-up window.
    pub fn post(&self) -> DateRange {
        self.followup.first().copied().unwrap_or_else(|| {
            DateRange::new(
                add_days(self.treatment_day, 1),
                add_days(self.treatment_day, i64::from(self.window_days)),
            )
        })
    }

    /// `baseline.from ..= last follow-up .to`: the one range of entries the store must read.
    /// (It includes the treatment day, which no window counts.)
    pub fn read_range(&self) -> DateRange {
        let last = self.followup.last().copied().unwrap_or_else(|| self.post());
        DateRange::new(self.baseline.from, last.to)
    }
}

/// Post minus baseline (docs/clinical-rules.md `change`). Negative values are improvements.
#[derive(Serialize, ToSchema, Clone, Debug, PartialEq)]
pub struct OutcomeChange {
    /// Post − baseline `headache_days_per_28`; null when either is null.
    #[schema(required = true)]
    pub headache_days_per_28: Option<f64>,
    /// That change / baseline `headache_days_per_28` × 100 (−50 = halved); null when the
    /// baseline is 0 or either figure is null.
    #[schema(required = true)]
    pub headache_days_percent: Option<f64>,
    /// Post − baseline `migraine_days_per_28`; null when either is null.
    #[schema(required = true)]
    pub migraine_days_per_28: Option<f64>,
    /// That change / baseline `migraine_days_per_28` × 100; null when the baseline is 0 or
    /// either figure is null.
    #[schema(required = true)]
    pub migraine_days_percent: Option<f64>,
    /// Post − baseline `mean_peak_pain` (0–10 points); null when either mean is null. A change
    /// of −2 or less makes a pain responder.
    #[schema(required = true)]
    pub mean_peak_pain: Option<f64>,
}

/// The before/after comparison of one treatment (docs/clinical-rules.md; the HTTP layer adds the
/// treatment itself and `overlapping_treatments` to make a `TreatmentSummary`).
#[derive(Serialize, ToSchema, Clone, Debug, PartialEq)]
pub struct TreatmentOutcome {
    /// N, the length in days of the baseline and of each follow-up window (7–90).
    pub window_days: u32,
    /// The N days before the treatment day, T−N … T−1.
    pub baseline: WindowStats,
    /// The N days after the treatment day, T+1 … T+N (= `followup[0]`).
    pub post: WindowStats,
    /// `followup_windows` consecutive post windows of N days, in order; the first is `post`.
    /// Windows reaching past today are returned as they stand (their completion shows it).
    pub followup: Vec<WindowStats>,
    /// Post minus baseline.
    pub change: OutcomeChange,
    /// Post `headache_days_per_28` ≤ 0.5 × baseline (inclusive); null unless both windows are
    /// sufficient and the baseline is > 0.
    #[schema(required = true)]
    pub responder_50: Option<bool>,
    /// Post `headache_days_per_28` ≤ 0.25 × baseline (inclusive); null unless both windows are
    /// sufficient and the baseline is > 0.
    #[schema(required = true)]
    pub responder_75: Option<bool>,
    /// `change.mean_peak_pain` ≤ −2 (Jefferson ketamine studies); null unless both windows are
    /// sufficient and both means exist.
    #[schema(required = true)]
    pub pain_responder: Option<bool>,
    /// Both baseline and post are at least 80 % recorded (IHS diary compliance).
    pub sufficient_data: bool,
}

/// Post − baseline, and that change as a percentage of the baseline.
fn change_of(baseline: Option<f64>, post: Option<f64>) -> (Option<f64>, Option<f64>) {
    match (baseline, post) {
        (Some(b), Some(p)) => {
            let change = p - b;
            (Some(change), ratio(change, b).map(|r| r * 100.0))
        }
        _ => (None, None),
    }
}

/// Compares baseline and follow-up windows (docs/clinical-rules.md "Before and after a treatment").
/// `days` should cover `windows.read_range()`; records elsewhere are ignored, order is irrelevant.
pub fn treatment_outcome(windows: &TreatmentWindows, days: &[DayRecord]) -> TreatmentOutcome {
    outcome_of_windows(windows, |r| WindowStats::compute(r.from, r.to, days))
}

/// [`treatment_outcome`] from the statistics of each window however they were obtained (e.g.
/// summed by the database from the stored classification of each day).
pub fn outcome_of_windows(
    windows: &TreatmentWindows,
    stats: impl Fn(DateRange) -> WindowStats,
) -> TreatmentOutcome {
    let baseline = stats(windows.baseline);
    let mut followup: Vec<WindowStats> = windows.followup.iter().map(|r| stats(*r)).collect();
    if followup.is_empty() {
        followup.push(stats(windows.post()));
    }
    let post = followup
        .first()
        .cloned()
        .unwrap_or_else(|| stats(windows.post()));

    let (headache_days_per_28, headache_days_percent) =
        change_of(baseline.headache_days_per_28, post.headache_days_per_28);
    let (migraine_days_per_28, migraine_days_percent) =
        change_of(baseline.migraine_days_per_28, post.migraine_days_per_28);
    let mean_peak_pain = match (baseline.mean_peak_pain, post.mean_peak_pain) {
        (Some(b), Some(p)) => Some(p - b),
        _ => None,
    };

    let sufficient_data = baseline.is_sufficient() && post.is_sufficient();
    let responder = |share: f64| match (baseline.headache_days_per_28, post.headache_days_per_28) {
        (Some(b), Some(p)) if sufficient_data && b > 0.0 => Some(p <= share * b),
        _ => None,
    };
    let responder_50 = responder(RESPONDER_50_RATIO);
    let responder_75 = responder(RESPONDER_75_RATIO);
    let pain_responder = mean_peak_pain
        .filter(|_| sufficient_data)
        .map(|c| c <= PAIN_RESPONDER_CHANGE);

    TreatmentOutcome {
        window_days: windows.window_days,
        baseline,
        post,
        followup,
        change: OutcomeChange {
            headache_days_per_28,
            headache_days_percent,
            migraine_days_per_28,
            migraine_days_percent,
            mean_peak_pain,
        },
        responder_50,
        responder_75,
        pain_responder,
        sufficient_data,
    }
}

/// The ids of other treatments whose treatment day lies in T−N … T+N (inclusive), in input
/// order. The caller excludes the treatment itself. `window_days` is used as given (the HTTP
/// layer validates it). Their presence changes no number; the dashboard shows a warning.
pub fn overlapping_treatments<I: Copy>(
    treatment_day: NaiveDate,
    window_days: u32,
    others: impl IntoIterator<Item = (I, NaiveDate)>,
) -> Vec<I> {
    let n = i64::from(window_days);
    let span = DateRange::new(add_days(treatment_day, -n), add_days(treatment_day, n));
    others
        .into_iter()
        .filter(|(_, day)| span.contains(*day))
        .map(|(id, _)| id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::diary::{HeadacheFeatures, MedicationClassSet};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rec(date: NaiveDate, pain: u8) -> DayRecord {
        DayRecord {
            date,
            peak_pain: pain,
            headache_hours: None,
            features: HeadacheFeatures::default(),
            medication_classes: MedicationClassSet::default(),
        }
    }

    /// Every day of `range` recorded, pain `pain(i)` on day i.
    fn fill(range: DateRange, pain: impl Fn(usize) -> u8) -> Vec<DayRecord> {
        range
            .iter()
            .enumerate()
            .map(|(i, date)| rec(date, pain(i)))
            .collect()
    }

    #[test]
    fn treatment_day_is_patient_local_date() {
        // Example C: 05:30Z is 22:30 the previous day in Los Angeles (PDT)
        let t = treatment_day(
            "2026-06-10T05:30:00Z".parse().unwrap(),
            chrono_tz::America::Los_Angeles,
        );
        assert_eq!(t, d("2026-06-09"));
        let w = TreatmentWindows::new(t, 28, 1);
        assert_eq!(w.post().from, d("2026-06-10"));
        // same instant in Berlin is 07:30 on 06-10
        let t = treatment_day(
            "2026-06-10T05:30:00Z".parse().unwrap(),
            chrono_tz::Europe::Berlin,
        );
        assert_eq!(t, d("2026-06-10"));
    }

    #[test]
    fn windows_exclude_the_treatment_day() {
        let w = TreatmentWindows::new(d("2026-03-01"), 28, 3);
        assert_eq!(w.baseline, DateRange::new(d("2026-02-01"), d("2026-02-28")));
        assert_eq!(w.post(), DateRange::new(d("2026-03-02"), d("2026-03-29")));
        assert_eq!(
            w.followup,
            vec![
                DateRange::new(d("2026-03-02"), d("2026-03-29")),
                DateRange::new(d("2026-03-30"), d("2026-04-26")),
                DateRange::new(d("2026-04-27"), d("2026-05-24")),
            ]
        );
        assert_eq!(
            w.read_range(),
            DateRange::new(d("2026-02-01"), d("2026-05-24"))
        );
        assert!(!w.baseline.contains(w.treatment_day));
        assert!(w.followup.iter().all(|r| !r.contains(w.treatment_day)));
    }

    #[test]
    fn window_arguments_are_clamped() {
        let w = TreatmentWindows::new(d("2026-03-01"), 1, 0);
        assert_eq!(w.window_days, MIN_WINDOW_DAYS);
        assert_eq!(w.followup.len(), 1);
        let w = TreatmentWindows::new(d("2026-03-01"), 1000, 9);
        assert_eq!(w.window_days, MAX_WINDOW_DAYS);
        assert_eq!(w.followup.len(), 3);
        assert_eq!(w.baseline.days(), 90);
    }

    #[test]
    fn post_falls_back_when_followup_is_emptied() {
        let mut w = TreatmentWindows::new(d("2026-03-01"), 7, 1);
        w.followup.clear();
        assert_eq!(w.post(), DateRange::new(d("2026-03-02"), d("2026-03-08")));
        assert_eq!(w.read_range().to, d("2026-03-08"));
        let o = treatment_outcome(&w, &[]);
        assert_eq!(o.followup.len(), 1);
    }

    #[test]
    fn change_percent_is_null_when_baseline_is_zero() {
        let w = TreatmentWindows::new(d("2026-03-01"), 7, 1);
        let mut days = fill(w.baseline, |_| 0);
        days.extend(fill(w.post(), |i| u8::from(i == 0) * 5));
        let o = treatment_outcome(&w, &days);
        assert_eq!(o.change.headache_days_per_28, Some(4.0));
        assert_eq!(o.change.headache_days_percent, None);
        assert_eq!(o.responder_50, None, "baseline 0: no responder status");
        assert_eq!(o.responder_75, None);
        assert_eq!(
            o.change.mean_peak_pain, None,
            "baseline has no headache day"
        );
        assert_eq!(o.pain_responder, None);
        assert!(o.sufficient_data);
    }

    #[test]
    fn change_is_null_when_a_window_has_no_records() {
        let w = TreatmentWindows::new(d("2026-03-01"), 7, 1);
        let days = fill(w.baseline, |_| 5);
        let o = treatment_outcome(&w, &days);
        assert_eq!(o.change.headache_days_per_28, None);
        assert_eq!(o.change.headache_days_percent, None);
        assert_eq!(o.change.migraine_days_per_28, None);
        assert_eq!(o.change.migraine_days_percent, None);
        assert!(!o.sufficient_data);
        assert_eq!(o.responder_50, None);
    }

    #[test]
    fn responders_need_both_windows_sufficient() {
        let w = TreatmentWindows::new(d("2026-03-01"), 10, 1);
        // baseline fully recorded, 4 headache days at pain 8
        let mut days = fill(w.baseline, |i| if i < 4 { 8 } else { 0 });
        // post: only 7 of 10 days recorded (0.7), no headache
        days.extend(fill(w.post(), |_| 0).into_iter().take(7));
        let o = treatment_outcome(&w, &days);
        assert!(!o.sufficient_data);
        assert_eq!(o.responder_50, None);
        assert_eq!(o.responder_75, None);
        assert_eq!(o.pain_responder, None);
        // the change is still reported
        assert_eq!(o.change.headache_days_per_28, Some(-11.2));
        // with 8 of 10 post days (0.8, inclusive) it is sufficient
        days.extend(fill(w.post(), |_| 0).into_iter().skip(7).take(1));
        let o = treatment_outcome(&w, &days);
        assert!(o.sufficient_data);
        assert_eq!(o.responder_50, Some(true));
        assert_eq!(o.responder_75, Some(true));
        assert_eq!(o.pain_responder, None, "post has no headache day: no mean");
    }

    #[test]
    fn responder_bounds_are_inclusive() {
        let w = TreatmentWindows::new(d("2026-03-01"), 28, 1);
        let with_post = |post_headache_days: usize| {
            let mut days = fill(w.baseline, |i| if i < 8 { 5 } else { 0 });
            days.extend(fill(
                w.post(),
                |i| if i < post_headache_days { 5 } else { 0 },
            ));
            treatment_outcome(&w, &days)
        };
        let o = with_post(4);
        assert_eq!((o.responder_50, o.responder_75), (Some(true), Some(false)));
        let o = with_post(5);
        assert_eq!((o.responder_50, o.responder_75), (Some(false), Some(false)));
        let o = with_post(2);
        assert_eq!((o.responder_50, o.responder_75), (Some(true), Some(true)));
        let o = with_post(3);
        assert_eq!(o.responder_75, Some(false));
        assert_eq!(o.change.headache_days_percent, Some(-62.5));
    }

    #[test]
    fn pain_responder_is_a_fall_of_two_points() {
        let w = TreatmentWindows::new(d("2026-03-01"), 7, 1);
        let with_post_pain = |pain: u8| {
            let mut days = fill(w.baseline, |_| 6);
            days.extend(fill(w.post(), |_| pain));
            treatment_outcome(&w, &days)
        };
        assert_eq!(with_post_pain(4).pain_responder, Some(true));
        assert_eq!(with_post_pain(4).change.mean_peak_pain, Some(-2.0));
        assert_eq!(with_post_pain(5).pain_responder, Some(false));
        assert_eq!(with_post_pain(8).pain_responder, Some(false));
        // no post headache → no mean → null
        assert_eq!(with_post_pain(0).pain_responder, None);
    }

    #[test]
    fn followup_windows_are_consecutive() {
        let w = TreatmentWindows::new(d("2026-03-01"), 7, 3);
        let days = fill(w.read_range(), |_| 0);
        let o = treatment_outcome(&w, &days);
        assert_eq!(o.followup.len(), 3);
        assert_eq!(o.followup[0], o.post);
        for pair in o.followup.windows(2) {
            assert_eq!(add_days(pair[0].to, 1), pair[1].from);
            assert_eq!(pair[1].days, 7);
        }
    }

    #[test]
    fn overlapping_treatments_are_within_n_days_either_side() {
        let t = d("2026-03-01");
        let others = [
            (1, add_days(t, -8)),
            (2, add_days(t, -7)),
            (3, t),
            (4, add_days(t, 7)),
            (5, add_days(t, 8)),
        ];
        assert_eq!(overlapping_treatments(t, 7, others), vec![2, 3, 4]);
        assert_eq!(overlapping_treatments(t, 28, others), vec![1, 2, 3, 4, 5]);
        assert!(overlapping_treatments(t, 7, Vec::<(u8, NaiveDate)>::new()).is_empty());
    }
}
