//! The record as a FHIR R4 `Bundle` of type `collection` (README "Export and the visit report").
//!
//! - `Patient`: the account (name, email, time zone extension).
//! - `Observation` per recorded day: LOINC 72514-3 (pain severity 0–10) as `valueInteger`,
//!   `effectiveDateTime` the patient-local day; features, hours and disability as components
//!   coded in [`DIARY_FIELD_SYSTEM`]; the day's notes as `note`.
//! - `MedicationStatement` per acute medication of a day (class in [`MEDICATION_CLASS_SYSTEM`]).
//! - `MedicationAdministration` for infusions and injections (the `iv_*` kinds, intranasal
//!   ketamine, onabotulinumtoxinA), `Procedure` for nerve blocks (SNOMED CT 86169007 for a
//!   sphenopalatine ganglion block, the others in [`TREATMENT_KIND_SYSTEM`]) and for `other`.
//! - `QuestionnaireResponse` per questionnaire (answers by item number, never item text).
//!
//! Every resource has a stable `urn:uuid:` full URL derived from the patient and the day,
//! treatment or questionnaire, so two exports of the same record name resources alike.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::domain::{AcuteMedication, DiaryEntry, TreatmentKind};
use crate::export::{DatedTreatment, QuestionnaireScore};

/// Base of the service's own CodeSystem and Questionnaire URLs (documented in README).
pub const CANONICAL_BASE: &str = "https://migraine-diary.example/fhir";
/// Codes of the diary's own fields: `aura`, `nausea`, … , `headache_hours`, `disability`.
pub const DIARY_FIELD_SYSTEM: &str = "https://migraine-diary.example/fhir/CodeSystem/diary-field";
/// `none`, `mild`, `moderate`, `severe`.
pub const DISABILITY_SYSTEM: &str = "https://migraine-diary.example/fhir/CodeSystem/disability";
/// The acute medication classes of the diary (`triptan`, `nsaid`, …).
pub const MEDICATION_CLASS_SYSTEM: &str =
    "https://migraine-diary.example/fhir/CodeSystem/medication-class";
/// The treatment kinds (`iv_ketamine`, `occipital_nerve_block`, …).
pub const TREATMENT_KIND_SYSTEM: &str =
    "https://migraine-diary.example/fhir/CodeSystem/treatment-kind";
/// Questionnaire score and grade items.
pub const QUESTIONNAIRE_SCORE_SYSTEM: &str =
    "https://migraine-diary.example/fhir/CodeSystem/questionnaire-score";

const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";
const UCUM: &str = "http://unitsofmeasure.org";
/// SNOMED CT: block of the sphenopalatine ganglion.
const SPG_BLOCK_SNOMED: &str = "86169007";

/// Namespace of the derived resource ids (UUID v5), fixed forever.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6d1f_0b6e_4a52_4c1e_9a3e_2d0c_7e58_a901);

/// The patient as the Bundle names them.
#[derive(Debug, Clone)]
pub struct PatientFacts {
    pub id: Uuid,
    pub display_name: Option<String>,
    pub email: String,
    pub timezone: String,
}

/// Everything one Bundle holds.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub patient: &'a PatientFacts,
    pub entries: &'a [DiaryEntry],
    pub treatments: &'a [DatedTreatment],
    pub questionnaires: &'a [QuestionnaireScore],
    /// `Bundle.timestamp`.
    pub generated_at: DateTime<Utc>,
}

/// The Bundle, ready to serialize as `application/fhir+json`.
pub fn bundle(record: Record<'_>) -> Value {
    let patient = record.patient;
    let patient_url = urn(patient.id, "patient");
    let subject = json!({"reference": patient_url});
    let mut entries = vec![entry(&patient_url, patient_resource(patient))];
    for day in record.entries {
        let observation_url = urn(patient.id, &format!("day/{}", day.date()));
        entries.push(entry(&observation_url, observation(day, &subject)));
        for (i, med) in day.acute_medications().iter().enumerate() {
            let url = urn(patient.id, &format!("day/{}/medication/{i}", day.date()));
            entries.push(entry(
                &url,
                medication_statement(day.date(), med, &subject, &observation_url),
            ));
        }
    }
    for t in record.treatments {
        let url = urn(patient.id, &format!("treatment/{}", t.id));
        entries.push(entry(&url, treatment_resource(t, &subject)));
    }
    for q in record.questionnaires {
        let url = urn(patient.id, &format!("questionnaire/{}", q.id));
        entries.push(entry(&url, questionnaire_response(q, &subject)));
    }
    json!({
        "resourceType": "Bundle",
        "id": urn_id(patient.id, "bundle"),
        "type": "collection",
        "timestamp": record.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "entry": entries,
    })
}

fn urn_id(patient: Uuid, what: &str) -> String {
    let mut name = patient.as_bytes().to_vec();
    name.extend_from_slice(what.as_bytes());
    Uuid::new_v5(&ID_NAMESPACE, &name).to_string()
}

fn urn(patient: Uuid, what: &str) -> String {
    format!("urn:uuid:{}", urn_id(patient, what))
}

fn entry(full_url: &str, resource: Value) -> Value {
    json!({"fullUrl": full_url, "resource": resource})
}

/// FHIR strings must not be empty; an empty text is left out.
fn text(value: Option<&str>) -> Option<&str> {
    value.filter(|t| !t.trim().is_empty())
}

fn coding(system: &str, code: &str) -> Value {
    json!({"system": system, "code": code})
}

fn concept(system: &str, code: &str, label: Option<&str>) -> Value {
    let mut c = json!({"coding": [coding(system, code)]});
    if let Some(label) = text(label) {
        c["text"] = json!(label);
    }
    c
}

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn patient_resource(p: &PatientFacts) -> Value {
    let mut r = json!({
        "resourceType": "Patient",
        "id": p.id.to_string(),
        "active": true,
        "telecom": [{"system": "email", "value": p.email, "use": "home"}],
        "extension": [{
            "url": "http://hl7.org/fhir/StructureDefinition/timezone",
            "valueCode": p.timezone,
        }],
    });
    if let Some(name) = text(p.display_name.as_deref()) {
        r["name"] = json!([{"text": name}]);
    }
    r
}

fn observation(day: &DiaryEntry, subject: &Value) -> Value {
    let f = day.features();
    let mut components: Vec<Value> = [
        ("aura", f.aura),
        ("nausea", f.nausea),
        ("vomiting", f.vomiting),
        ("photophobia", f.photophobia),
        ("phonophobia", f.phonophobia),
        ("unilateral", f.unilateral),
        ("pulsating", f.pulsating),
        ("aggravated_by_activity", f.aggravated_by_activity),
    ]
    .into_iter()
    .map(|(code, value)| {
        json!({"code": concept(DIARY_FIELD_SYSTEM, code, None), "valueBoolean": value})
    })
    .collect();
    if let Some(hours) = day.headache_hours() {
        components.push(json!({
            "code": concept(DIARY_FIELD_SYSTEM, "headache_hours", Some("Hours with headache")),
            "valueQuantity": {"value": hours, "unit": "h", "system": UCUM, "code": "h"},
        }));
    }
    if let Some(disability) = day.disability() {
        let code = super::wire_name(&disability);
        components.push(json!({
            "code": concept(DIARY_FIELD_SYSTEM, "disability", Some("Disability")),
            "valueCodeableConcept": concept(DISABILITY_SYSTEM, &code, None),
        }));
    }
    let mut r = json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
        }]}],
        "code": {
            "coding": [{
                "system": LOINC,
                "code": "72514-3",
                "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
            }],
            "text": "Peak headache pain of the day (0-10)",
        },
        "subject": subject,
        "effectiveDateTime": day.date().to_string(),
        "valueInteger": day.peak_pain(),
        "component": components,
    });
    if let Some(notes) = text(day.notes()) {
        r["note"] = json!([{"text": notes}]);
    }
    r
}

fn medication_statement(
    date: NaiveDate,
    med: &AcuteMedication,
    subject: &Value,
    observation_url: &str,
) -> Value {
    let class = super::wire_name(&med.class);
    let mut r = json!({
        "resourceType": "MedicationStatement",
        "status": "completed",
        "medicationCodeableConcept": concept(MEDICATION_CLASS_SYSTEM, &class, Some(&med.name)),
        "subject": subject,
        "effectiveDateTime": date.to_string(),
        "derivedFrom": [{"reference": observation_url}],
    });
    if let Some(dose) = text(med.dose.as_deref()) {
        r["dosage"] = json!([{"text": dose}]);
    }
    r
}

/// Which resource a treatment kind becomes.
fn is_administration(kind: TreatmentKind) -> bool {
    matches!(
        kind,
        TreatmentKind::IvKetamine
            | TreatmentKind::IntranasalKetamine
            | TreatmentKind::IvMagnesium
            | TreatmentKind::IvDopamineAntagonist
            | TreatmentKind::IvDihydroergotamine
            | TreatmentKind::IvLidocaine
            | TreatmentKind::Onabotulinumtoxina
    )
}

fn treatment_resource(treatment: &DatedTreatment, subject: &Value) -> Value {
    let t = &treatment.fields;
    let kind = &super::wire_name(&t.kind);
    let mut notes: Vec<Value> = text(t.notes.as_deref())
        .map(|n| json!({"text": n}))
        .into_iter()
        .collect();
    let events: Vec<&str> = t
        .adverse_events
        .iter()
        .filter_map(|e| text(Some(e)))
        .collect();
    if !events.is_empty() {
        notes.push(json!({"text": format!("Adverse events: {}", events.join("; "))}));
    }
    let timing = match t.ended_at {
        Some(end) => json!({"start": instant(t.started_at), "end": instant(end)}),
        None => json!({"start": instant(t.started_at)}),
    };
    let mut r = Map::new();
    if is_administration(t.kind) {
        r.insert("resourceType".into(), json!("MedicationAdministration"));
        r.insert("id".into(), json!(treatment.id.to_string()));
        r.insert("status".into(), json!("completed"));
        r.insert(
            "medicationCodeableConcept".into(),
            concept(TREATMENT_KIND_SYSTEM, kind, Some(&t.name)),
        );
        r.insert("subject".into(), subject.clone());
        r.insert("effectivePeriod".into(), timing);
        if let Some(dosage) = dosage(t) {
            r.insert("dosage".into(), dosage);
        }
    } else {
        let code = if t.kind == TreatmentKind::SphenopalatineGanglionBlock {
            concept(SNOMED, SPG_BLOCK_SNOMED, Some(&t.name))
        } else {
            concept(TREATMENT_KIND_SYSTEM, kind, Some(&t.name))
        };
        r.insert("resourceType".into(), json!("Procedure"));
        r.insert("id".into(), json!(treatment.id.to_string()));
        r.insert("status".into(), json!("completed"));
        r.insert("code".into(), code);
        r.insert("subject".into(), subject.clone());
        r.insert("performedPeriod".into(), timing);
    }
    if !notes.is_empty() {
        r.insert("note".into(), Value::Array(notes));
    }
    Value::Object(r)
}

/// `dose` + `dose_unit`: an amount, or a rate when the unit is per hour (`mg/kg/h`).
fn dosage(t: &crate::domain::TreatmentDraft) -> Option<Value> {
    let value = t.dose?;
    let mut quantity = json!({"value": value});
    let unit = text(t.dose_unit.as_deref());
    if let Some(unit) = unit {
        quantity["unit"] = json!(unit);
    }
    let key = if unit.is_some_and(|u| u.ends_with("/h")) {
        "rateQuantity"
    } else {
        "dose"
    };
    Some(json!({ key: quantity }))
}

fn questionnaire_response(q: &QuestionnaireScore, subject: &Value) -> Value {
    let mut items: Vec<Value> = q
        .answers
        .iter()
        .enumerate()
        .map(|(i, a)| json!({"linkId": (i + 1).to_string(), "answer": [{"valueInteger": a}]}))
        .collect();
    items.push(json!({"linkId": "score", "answer": [{"valueInteger": q.score}]}));
    items.push(json!({
        "linkId": "grade",
        "answer": [{"valueCoding": coding(QUESTIONNAIRE_SCORE_SYSTEM, &format!("{}-{}", q.instrument, q.grade))}],
    }));
    json!({
        "resourceType": "QuestionnaireResponse",
        "id": q.id.to_string(),
        "questionnaire": format!("{CANONICAL_BASE}/Questionnaire/{}", q.instrument),
        "status": "completed",
        "subject": subject,
        "authored": q.completed_on.to_string(),
        "item": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{HeadacheFeatures, MedicationClass};

    fn facts() -> PatientFacts {
        PatientFacts {
            id: Uuid::from_u128(7),
            display_name: Some("Ana".into()),
            email: "ana@example.org".into(),
            timezone: "Europe/Berlin".into(),
        }
    }

    fn day(date: &str, pain: u8, meds: Vec<AcuteMedication>) -> DiaryEntry {
        let draft = crate::domain::EntryDraft {
            peak_pain: i64::from(pain),
            headache_hours: Some(if pain > 0 { 5.0 } else { 0.0 }),
            features: HeadacheFeatures {
                aura: true,
                ..Default::default()
            },
            acute_medications: meds,
            disability: None,
            notes: Some(String::new()),
        };
        DiaryEntry::parse_stored(date.parse().unwrap(), draft).unwrap()
    }

    fn treatment(kind: TreatmentKind) -> DatedTreatment {
        let now = Utc::now();
        DatedTreatment {
            id: Uuid::now_v7(),
            treatment_day: now.date_naive(),
            fields: crate::domain::TreatmentDraft {
                kind,
                name: "x".into(),
                started_at: now,
                ended_at: None,
                dose: Some(0.5),
                dose_unit: Some("mg/kg/h".into()),
                notes: None,
                adverse_events: vec!["dissociation".into()],
            },
        }
    }

    fn types(bundle: &Value) -> Vec<String> {
        bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["resource"]["resourceType"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn each_part_of_the_record_becomes_its_resource() {
        let p = facts();
        let meds = vec![AcuteMedication {
            name: "sumatriptan".into(),
            class: MedicationClass::Triptan,
            dose: Some("50 mg".into()),
        }];
        let entries = [day("2026-03-01", 6, meds), day("2026-03-02", 0, vec![])];
        let treatments = [
            treatment(TreatmentKind::IvKetamine),
            treatment(TreatmentKind::SphenopalatineGanglionBlock),
            treatment(TreatmentKind::OccipitalNerveBlock),
        ];
        let b = bundle(Record {
            patient: &p,
            entries: &entries,
            treatments: &treatments,
            questionnaires: &[],
            generated_at: Utc::now(),
        });
        assert_eq!(b["type"], "collection");
        assert_eq!(
            types(&b),
            [
                "Patient",
                "Observation",
                "MedicationStatement",
                "Observation",
                "MedicationAdministration",
                "Procedure",
                "Procedure"
            ]
        );
        let obs = &b["entry"][1]["resource"];
        assert_eq!(obs["code"]["coding"][0]["code"], "72514-3");
        assert_eq!(obs["valueInteger"], 6);
        assert_eq!(obs["effectiveDateTime"], "2026-03-01");
        assert!(obs.get("note").is_none(), "an empty note is left out");
        let ket = &b["entry"][4]["resource"];
        assert_eq!(ket["dosage"]["rateQuantity"]["unit"], "mg/kg/h");
        let spg = &b["entry"][5]["resource"]["code"]["coding"][0];
        assert_eq!(
            (&spg["system"], &spg["code"]),
            (&json!(SNOMED), &json!("86169007"))
        );
        let onb = &b["entry"][6]["resource"]["code"]["coding"][0];
        assert_eq!(onb["system"], TREATMENT_KIND_SYSTEM);
    }

    #[test]
    fn full_urls_are_stable_and_distinct() {
        let p = facts();
        let entries = [day("2026-03-01", 6, vec![]), day("2026-03-02", 0, vec![])];
        let make = || {
            bundle(Record {
                patient: &p,
                entries: &entries,
                treatments: &[],
                questionnaires: &[],
                generated_at: Utc::now(),
            })
        };
        let urls = |b: &Value| -> Vec<String> {
            b["entry"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["fullUrl"].as_str().unwrap().to_owned())
                .collect()
        };
        let (a, b) = (urls(&make()), urls(&make()));
        assert_eq!(a, b);
        let distinct: std::collections::HashSet<_> = a.iter().collect();
        assert_eq!(distinct.len(), a.len());
    }
}
