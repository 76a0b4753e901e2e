//! A treatment event as the clinic records it, and the rules it obeys (docs/clinical-rules.md
//! "What an entry and a treatment may hold"). [`TreatmentEvent::parse`] is the only way to build
//! one; "now" is a parameter (a treatment may be planned up to a year ahead).

use chrono::{DateTime, Duration, SubsecRound, TimeZone as _, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problems::{check_required_text, check_text, Problems};

pub const MAX_TREATMENT_NAME_CHARS: usize = 200;
pub const MAX_DOSE_UNIT_CHARS: usize = 20;
pub const MAX_TREATMENT_NOTES_CHARS: usize = 2000;
pub const MAX_ADVERSE_EVENTS: usize = 20;
pub const MAX_ADVERSE_EVENT_CHARS: usize = 200;
/// How far ahead a treatment may be planned.
pub const MAX_DAYS_AHEAD: i64 = 366;

/// The kind of treatment event (the clinic page's infusions and blocks, and common others).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum TreatmentKind {
    IvKetamine,
    IntranasalKetamine,
    IvMagnesium,
    IvDopamineAntagonist,
    IvDihydroergotamine,
    IvLidocaine,
    SphenopalatineGanglionBlock,
    StellateGanglionBlock,
    OccipitalNerveBlock,
    Onabotulinumtoxina,
    Other,
}

impl TreatmentKind {
    pub const ALL: [TreatmentKind; 11] = [
        Self::IvKetamine,
        Self::IntranasalKetamine,
        Self::IvMagnesium,
        Self::IvDopamineAntagonist,
        Self::IvDihydroergotamine,
        Self::IvLidocaine,
        Self::SphenopalatineGanglionBlock,
        Self::StellateGanglionBlock,
        Self::OccipitalNerveBlock,
        Self::Onabotulinumtoxina,
        Self::Other,
    ];
}

/// A treatment's fields as typed, before any rule is checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TreatmentDraft {
    pub kind: TreatmentKind,
    pub name: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub dose: Option<f64>,
    pub dose_unit: Option<String>,
    pub notes: Option<String>,
    pub adverse_events: Vec<String>,
}

/// A valid treatment event: a trimmed name, a start in 2000…now + a year, an end not before the
/// start, a dose ≥ 0, limited texts. Instants are kept at microseconds, the precision every
/// database stores, so what a write answers equals what a later read returns.
#[derive(Debug, Clone, PartialEq)]
pub struct TreatmentEvent(TreatmentDraft);

impl TreatmentEvent {
    /// Checks every rule of a treatment recorded at `now`; every broken rule is reported.
    pub fn parse(draft: TreatmentDraft, now: DateTime<Utc>) -> Result<Self, Problems> {
        let mut p = Problems::new();
        check_required_text(&draft.name, "name", MAX_TREATMENT_NAME_CHARS, &mut p);
        let earliest = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single();
        p.check(
            earliest.is_none_or(|e| draft.started_at >= e),
            "started_at",
            "must not be before 2000-01-01",
        );
        p.check(
            draft.started_at <= now + Duration::days(MAX_DAYS_AHEAD),
            "started_at",
            "must not be more than a year ahead",
        );
        if let Some(ended_at) = draft.ended_at {
            p.check(
                ended_at >= draft.started_at,
                "ended_at",
                "must not be before started_at",
            );
        }
        if let Some(dose) = draft.dose {
            p.check(
                dose.is_finite() && dose >= 0.0,
                "dose",
                "must be a number ≥ 0",
            );
        }
        check_text(
            draft.dose_unit.as_deref(),
            "dose_unit",
            MAX_DOSE_UNIT_CHARS,
            &mut p,
        );
        check_text(
            draft.notes.as_deref(),
            "notes",
            MAX_TREATMENT_NOTES_CHARS,
            &mut p,
        );
        p.check(
            draft.adverse_events.len() <= MAX_ADVERSE_EVENTS,
            "adverse_events",
            format!("at most {MAX_ADVERSE_EVENTS} adverse events"),
        );
        for (i, event) in draft.adverse_events.iter().enumerate() {
            check_required_text(
                event,
                &format!("adverse_events[{i}]"),
                MAX_ADVERSE_EVENT_CHARS,
                &mut p,
            );
        }
        p.or_ok(Self(TreatmentDraft {
            name: draft.name.trim().to_owned(),
            started_at: draft.started_at.trunc_subsecs(6),
            ended_at: draft.ended_at.map(|t| t.trunc_subsecs(6)),
            ..draft
        }))
    }

    /// A stored treatment read back: the stored values are taken as they are (they were
    /// checked when written, against the clock of that moment).
    pub fn from_stored(draft: TreatmentDraft) -> Self {
        Self(draft)
    }

    pub fn kind(&self) -> TreatmentKind {
        self.0.kind
    }
    pub fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }
    /// The fields, for a store or a response to take apart, or a change to start from.
    pub fn fields(&self) -> &TreatmentDraft {
        &self.0
    }
    pub fn into_fields(self) -> TreatmentDraft {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(started_at: &str) -> TreatmentDraft {
        TreatmentDraft {
            kind: TreatmentKind::IvKetamine,
            name: "  ketamine 0.5 mg/kg ".into(),
            started_at: started_at.parse().unwrap(),
            ended_at: None,
            dose: Some(35.0),
            dose_unit: Some("mg".into()),
            notes: None,
            adverse_events: vec![],
        }
    }

    fn fields(d: TreatmentDraft) -> Vec<String> {
        let now = "2026-11-25T12:00:00Z".parse().unwrap();
        match TreatmentEvent::parse(d, now) {
            Ok(_) => vec![],
            Err(p) => p.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn treatment_rules_name_their_field() {
        assert!(fields(draft("2026-11-20T09:00:00Z")).is_empty());
        assert_eq!(fields(draft("1999-12-31T23:00:00Z")), vec!["started_at"]);
        assert_eq!(fields(draft("2028-01-01T00:00:00Z")), vec!["started_at"]);
        let mut d = draft("2026-11-20T09:00:00Z");
        d.ended_at = Some("2026-11-20T08:00:00Z".parse().unwrap());
        d.dose = Some(-1.0);
        d.adverse_events = vec![" ".into()];
        assert_eq!(fields(d), vec!["ended_at", "dose", "adverse_events[0]"]);
    }

    #[test]
    fn a_valid_treatment_is_trimmed_and_at_microseconds() {
        let now = "2026-11-25T12:00:00Z".parse().unwrap();
        let t = TreatmentEvent::parse(draft("2026-11-20T09:00:00.123456789Z"), now).unwrap();
        assert_eq!(t.fields().name, "ketamine 0.5 mg/kg");
        assert_eq!(t.started_at().timestamp_subsec_nanos(), 123_456_000);
    }
}
