//! The demo clinic behind `migraine-diary demo`: one clinician and their patients, each with a
//! year (by default) of believable diary and a few of the clinic's treatments, so that the
//! dashboard, the before/after summaries and the cohort view have something true-to-life to
//! show on a fresh database.
//!
//! Everything follows from the seed and "today": the same seed on the same date gives the same
//! clinic, row for row (ids and timestamps aside), because each patient's plan is drawn from its
//! own `StdRng` (reproducible for a given `rand` version, which `Cargo.lock` pins). The plan is
//! plain code ([`plan_patient`]); [`seed_demo`] only writes it through the store, one write
//! transaction per patient. Every diary day and treatment goes through the API's own validation,
//! so the demo never holds data that the API would refuse.
//!
//! What the data shows (docs/clinical-rules.md's definitions): chronic patients (about 15–22 headache days
//! per 28) and episodic ones; migraine days and plain headache days; most diaries 85–98 %
//! complete and one patient in ten a sparse diarist (under 80 %, so their windows are
//! insufficient); acute medication by class, heavy enough in some chronic patients to flag
//! medication-overuse risk; and treatments that halve headache days for 4–12 weeks in
//! responders, then wear off, and do little in non-responders.

use std::f64::consts::TAU;
use std::fmt;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::DbErr;

use crate::auth::password::hash_blocking;
use crate::domain::account::check_password;
use crate::domain::range::add_days;
use crate::domain::{
    AccountDraft, AcuteMedication, DiaryEntry, Disability, EntryDraft, HeadacheFeatures,
    MedicationClass, NewAccount, PatientId, Problems, Role, TreatmentDraft, TreatmentEvent,
    TreatmentKind,
};
use crate::error::ApiError;
use crate::service::accounts::{insert_account, AccountError};
use crate::store::diary::{Precondition, WriteError};
use crate::store::users::Account;
use crate::store::{care, diary, treatments, users, Store};

/// The documented password of every demo account (unless `MIGRAINE_DIARY_PASSWORD` is set).
pub const DEMO_PASSWORD: &str = "demo-password-2026";
/// The demo clinician's login; its presence marks a database that already holds the demo.
pub const CLINICIAN_EMAIL: &str = "clinician@demo.migraine-diary.test";
pub const DEFAULT_SEED: u64 = 42;
pub const DEFAULT_PATIENTS: u32 = 20;
pub const DEFAULT_DAYS: u32 = 365;
/// Patient numbers have two digits up to 99, then three.
pub const MAX_PATIENTS: u32 = 999;
/// Enough for a treatment with 28 baseline and 28 post days inside the diary.
pub const MIN_DAYS: u32 = 90;
/// Ten years; the earliest diary date must stay after 2000-01-01.
pub const MAX_DAYS: u32 = 3650;

const CLINICIAN_TIMEZONE: Tz = chrono_tz::America::New_York;
/// Patient `i` lives in `PATIENT_TIMEZONES[i % 7]`: both sides of UTC and a half-hour offset.
const PATIENT_TIMEZONES: [Tz; 7] = [
    chrono_tz::America::Los_Angeles,
    chrono_tz::America::Chicago,
    chrono_tz::America::New_York,
    chrono_tz::Europe::London,
    chrono_tz::Europe::Berlin,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Australia::Sydney,
];

/// The login of demo patient `number` (1-based): `patient01@demo.migraine-diary.test`, ….
pub fn patient_email(number: u32) -> String {
    format!("patient{number:02}@demo.migraine-diary.test")
}

/// What to generate. `Debug` hides the password.
#[derive(Clone)]
pub struct DemoOptions {
    pub seed: u64,
    pub patients: u32,
    /// Diary length per patient, ending today in the patient's time zone.
    pub days: u32,
    /// The password of every demo account (hashed once).
    pub password: String,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            patients: DEFAULT_PATIENTS,
            days: DEFAULT_DAYS,
            password: DEMO_PASSWORD.to_owned(),
        }
    }
}

impl fmt::Debug for DemoOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoOptions")
            .field("seed", &self.seed)
            .field("patients", &self.patients)
            .field("days", &self.days)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl DemoOptions {
    /// Checks the ranges ([`seed_demo`] does too); lets the CLI refuse before touching a database.
    pub fn check(&self) -> Result<(), DemoError> {
        let mut problems = Vec::new();
        if !(1..=MAX_PATIENTS).contains(&self.patients) {
            problems.push(format!("--patients must be 1 to {MAX_PATIENTS}"));
        }
        if !(MIN_DAYS..=MAX_DAYS).contains(&self.days) {
            problems.push(format!("--days must be {MIN_DAYS} to {MAX_DAYS}"));
        }
        let mut p = Problems::new();
        check_password(&self.password, &mut p);
        problems.extend(p.iter().map(|e| format!("the {} {}", e.field, e.message)));
        if problems.is_empty() {
            Ok(())
        } else {
            Err(DemoError::InvalidOptions(problems.join("; ")))
        }
    }
}

/// What was created.
#[derive(Clone, Debug)]
pub struct DemoReport {
    pub clinician_email: String,
    pub patient_emails: Vec<String>,
    pub diary_entries: u64,
    pub treatments: u64,
    /// Wall time of the whole seeding, password hashing included.
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the database already holds the demo clinic; use a fresh database")]
    AlreadySeeded,
    #[error("the database already holds an account {0}; use a fresh database")]
    EmailTaken(String),
    #[error("{0}")]
    InvalidOptions(String),
    /// The generator produced something the API would refuse: a bug in this module.
    #[error("generated demo data breaks an API rule ({0})")]
    InvalidData(String),
    #[error("password hashing: {0}")]
    Hashing(String),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

fn describe_api_error(err: ApiError) -> String {
    match err {
        ApiError::Validation(fields) => fields
            .iter()
            .map(|f| format!("{} {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Fills an empty database with the demo clinic: the clinician, then each patient (account,
/// care link, treatments and diary) in one write transaction.
///
/// Refuses with [`DemoError::AlreadySeeded`] when the demo clinician exists. A run that fails
/// halfway leaves the patients written so far; start again on a fresh database.
pub async fn seed_demo(
    store: &Store,
    options: &DemoOptions,
    today_utc: DateTime<Utc>,
) -> Result<DemoReport, DemoError> {
    let started = Instant::now();
    options.check()?;
    if users::find_by_email(&store.db, CLINICIAN_EMAIL)
        .await?
        .is_some()
    {
        return Err(DemoError::AlreadySeeded);
    }
    // Argon2 is deliberately slow: one hash, shared by every demo account.
    let password = options.password.clone();
    let password_hash = tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| DemoError::Hashing(e.to_string()))?
        .map_err(|e| DemoError::Hashing(describe_api_error(e)))?;

    let txn = store.begin_write().await?;
    let clinician = create_account(
        &*txn,
        options,
        CLINICIAN_EMAIL,
        Role::Clinician,
        "Dr. Demo Clinician",
        CLINICIAN_TIMEZONE,
        &password_hash,
    )
    .await
    .map_err(|e| match e {
        DemoError::EmailTaken(_) => DemoError::AlreadySeeded,
        other => other,
    })?;
    txn.commit().await?;

    let mut report = DemoReport {
        clinician_email: clinician.email.clone(),
        patient_emails: Vec::new(),
        diary_entries: 0,
        treatments: 0,
        elapsed: Duration::ZERO,
    };
    // One seed per patient, drawn in order: patient i is the same whatever the patient count.
    let mut patient_seeds = StdRng::seed_from_u64(options.seed);
    for index in 0..options.patients {
        let plan = plan_patient(index, patient_seeds.gen(), today_utc, options.days)?;
        let txn = store.begin_write().await?;
        let patient = create_account(
            &*txn,
            options,
            &plan.email,
            Role::Patient,
            &plan.display_name,
            plan.timezone,
            &password_hash,
        )
        .await?;
        let patient_id = PatientId(patient.id.0);
        care::link(&*txn, patient_id, clinician.id).await?;
        for event in &plan.treatments {
            treatments::insert(&*txn, patient_id, clinician.id, event).await?;
            report.treatments += 1;
        }
        for entry in &plan.diary {
            diary::upsert(&*txn, patient_id, entry, Precondition::None)
                .await
                .map_err(|e| match e {
                    WriteError::Db(db) => DemoError::Db(db),
                    WriteError::PreconditionFailed => DemoError::InvalidData(format!(
                        "diary day {} of {}",
                        entry.date(),
                        plan.email
                    )),
                })?;
            report.diary_entries += 1;
        }
        txn.commit().await?;
        report.patient_emails.push(plan.email);
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// One demo account through the service's account creation (the same rules as sign-up),
/// with the shared password hash.
async fn create_account(
    db: &impl sea_orm::ConnectionTrait,
    options: &DemoOptions,
    email: &str,
    role: Role,
    display_name: &str,
    timezone: Tz,
    password_hash: &str,
) -> Result<Account, DemoError> {
    let account = NewAccount::parse(AccountDraft {
        email: email.to_owned(),
        password: options.password.clone(),
        role,
        display_name: Some(display_name.to_owned()),
        timezone: timezone.name().to_owned(),
    })
    .map_err(|p| DemoError::InvalidData(p.describe()))?;
    insert_account(db, &account, password_hash.to_owned())
        .await
        .map_err(|e| match e {
            AccountError::EmailTaken => DemoError::EmailTaken(email.to_owned()),
            AccountError::Db(db) => DemoError::Db(db),
        })
}

// ---------------------------------------------------------------------------------------------
// The generator: plain values, no I/O.

/// An acute drug as a patient writes it in the diary.
#[derive(Clone, Copy, Debug)]
struct Drug {
    name: &'static str,
    class: MedicationClass,
    dose: &'static str,
}

const fn drug(name: &'static str, class: MedicationClass, dose: &'static str) -> Drug {
    Drug { name, class, dose }
}

const SUMATRIPTAN: Drug = drug("sumatriptan", MedicationClass::Triptan, "50 mg");
const RIZATRIPTAN: Drug = drug("rizatriptan", MedicationClass::Triptan, "10 mg");
const ZOLMITRIPTAN: Drug = drug("zolmitriptan", MedicationClass::Triptan, "2.5 mg");
const UBROGEPANT: Drug = drug("ubrogepant", MedicationClass::Gepant, "100 mg");
const RIMEGEPANT: Drug = drug("rimegepant", MedicationClass::Gepant, "75 mg");
const IBUPROFEN: Drug = drug("ibuprofen", MedicationClass::Nsaid, "400 mg");
const NAPROXEN: Drug = drug("naproxen", MedicationClass::Nsaid, "500 mg");
const PARACETAMOL: Drug = drug("paracetamol", MedicationClass::SimpleAnalgesic, "1000 mg");
const ASPIRIN_PARACETAMOL_CAFFEINE: Drug = drug(
    "aspirin/paracetamol/caffeine",
    MedicationClass::CombinationAnalgesic,
    "2 tablets",
);
const TRAMADOL: Drug = drug("tramadol", MedicationClass::Opioid, "50 mg");
const ANTIEMETICS: [Drug; 2] = [
    drug("metoclopramide", MedicationClass::Antiemetic, "10 mg"),
    drug("ondansetron", MedicationClass::Antiemetic, "4 mg"),
];

/// How a patient treats a headache: drugs for a migraine attack, for a milder headache, and a
/// second drug on a severe day. Repeats in a list weight the choice.
struct MedicationHabit {
    attack: &'static [Drug],
    mild: &'static [Drug],
    rescue: &'static [Drug],
}

const HABITS: [MedicationHabit; 4] = [
    // Triptan first.
    MedicationHabit {
        attack: &[
            SUMATRIPTAN,
            SUMATRIPTAN,
            RIZATRIPTAN,
            ZOLMITRIPTAN,
            IBUPROFEN,
        ],
        mild: &[IBUPROFEN, PARACETAMOL],
        rescue: &[NAPROXEN, IBUPROFEN],
    },
    // Over-the-counter painkillers.
    MedicationHabit {
        attack: &[IBUPROFEN, IBUPROFEN, NAPROXEN, PARACETAMOL, RIZATRIPTAN],
        mild: &[PARACETAMOL, IBUPROFEN],
        rescue: &[ASPIRIN_PARACETAMOL_CAFFEINE],
    },
    // Combination analgesics and opioids (the overuse risk the clinic looks for).
    MedicationHabit {
        attack: &[
            ASPIRIN_PARACETAMOL_CAFFEINE,
            ASPIRIN_PARACETAMOL_CAFFEINE,
            TRAMADOL,
            SUMATRIPTAN,
        ],
        mild: &[ASPIRIN_PARACETAMOL_CAFFEINE, PARACETAMOL],
        rescue: &[TRAMADOL],
    },
    // Gepants (which never count towards overuse).
    MedicationHabit {
        attack: &[UBROGEPANT, UBROGEPANT, RIMEGEPANT, NAPROXEN],
        mild: &[NAPROXEN, PARACETAMOL],
        rescue: &[PARACETAMOL],
    },
];

/// A treatment the clinic gives (the clinic page's infusions and blocks).
struct Protocol {
    kind: TreatmentKind,
    name: &'static str,
    dose: f64,
    dose_unit: &'static str,
    minutes: i64,
    adverse_events: &'static [&'static str],
    /// Chance that a patient responds (50 % or more fewer headache days for weeks).
    response_rate: f64,
    /// Peak-pain relief in points for a responder, as a range.
    pain_relief: (f64, f64),
}

const PROTOCOLS: [Protocol; 9] = [
    Protocol {
        kind: TreatmentKind::IvKetamine,
        name: "ketamine 0.5 mg/kg/h over 4 h",
        dose: 0.5,
        dose_unit: "mg/kg/h",
        minutes: 240,
        adverse_events: &[
            "dissociation",
            "nausea",
            "dizziness",
            "transient hypertension",
        ],
        response_rate: 0.65,
        pain_relief: (1.5, 3.0),
    },
    Protocol {
        kind: TreatmentKind::IvKetamine,
        name: "ketamine 1 mg/kg bolus, then 1 mg/kg/h over 6 h",
        dose: 1.0,
        dose_unit: "mg/kg/h",
        minutes: 360,
        adverse_events: &["dissociation", "nausea", "blurred vision"],
        response_rate: 0.65,
        pain_relief: (1.5, 3.0),
    },
    Protocol {
        kind: TreatmentKind::IntranasalKetamine,
        name: "intranasal ketamine 50 mg (5 sprays of 10 mg)",
        dose: 50.0,
        dose_unit: "mg",
        minutes: 30,
        adverse_events: &["dissociation", "dizziness", "bad taste"],
        response_rate: 0.55,
        pain_relief: (1.0, 2.5),
    },
    Protocol {
        kind: TreatmentKind::IvMagnesium,
        name: "magnesium sulfate 1 g",
        dose: 1.0,
        dose_unit: "g",
        minutes: 20,
        adverse_events: &["flushing", "transient weakness"],
        response_rate: 0.4,
        pain_relief: (1.0, 2.0),
    },
    Protocol {
        kind: TreatmentKind::IvMagnesium,
        name: "magnesium sulfate 2 g",
        dose: 2.0,
        dose_unit: "g",
        minutes: 30,
        adverse_events: &["flushing", "diarrhoea"],
        response_rate: 0.4,
        pain_relief: (1.0, 2.0),
    },
    Protocol {
        kind: TreatmentKind::IvDopamineAntagonist,
        name: "metoclopramide 10 mg",
        dose: 10.0,
        dose_unit: "mg",
        minutes: 15,
        adverse_events: &["akathisia", "drowsiness"],
        response_rate: 0.45,
        pain_relief: (1.0, 2.5),
    },
    Protocol {
        kind: TreatmentKind::IvDopamineAntagonist,
        name: "prochlorperazine 10 mg",
        dose: 10.0,
        dose_unit: "mg",
        minutes: 15,
        adverse_events: &["akathisia", "drowsiness"],
        response_rate: 0.45,
        pain_relief: (1.0, 2.5),
    },
    Protocol {
        kind: TreatmentKind::SphenopalatineGanglionBlock,
        name: "sphenopalatine ganglion block, bupivacaine 0.5 % 0.3 mL each side",
        dose: 0.6,
        dose_unit: "mL",
        minutes: 20,
        adverse_events: &["nasal numbness", "bitter taste"],
        response_rate: 0.45,
        pain_relief: (1.0, 2.5),
    },
    Protocol {
        kind: TreatmentKind::StellateGanglionBlock,
        name: "stellate ganglion block, ropivacaine 0.5 % 5 mL",
        dose: 5.0,
        dose_unit: "mL",
        minutes: 30,
        adverse_events: &["transient Horner syndrome", "hoarseness"],
        response_rate: 0.4,
        pain_relief: (1.0, 2.0),
    },
];

/// Protocol choices (indices into `PROTOCOLS`, repeats weight them): ketamine mostly for
/// chronic patients, acute infusions and blocks for episodic ones.
const CHRONIC_PROTOCOLS: [usize; 10] = [0, 0, 1, 2, 2, 3, 5, 6, 7, 8];
const EPISODIC_PROTOCOLS: [usize; 8] = [2, 3, 4, 5, 6, 7, 7, 8];

const HEADACHE_NOTES: [&str; 10] = [
    "Poor sleep last night",
    "Skipped lunch",
    "Weather change",
    "Stressful week at work",
    "Long day at the screen",
    "Red wine at dinner",
    "Woke up with it",
    "Travel day",
    "Had to leave work early",
    "Lay down in a dark room",
];
const GOOD_DAY_NOTES: [&str; 4] = [
    "Good day",
    "Went for a run, felt fine",
    "Slept well",
    "Busy but no headache",
];

/// One patient's diary and treatments, ready to write.
struct PatientPlan {
    email: String,
    display_name: String,
    timezone: Tz,
    /// One entry per recorded day, in date order.
    diary: Vec<DiaryEntry>,
    treatments: Vec<TreatmentEvent>,
}

/// The habits of one patient, drawn once.
struct Profile {
    chronic: bool,
    /// Share of days with headache at baseline, before season, cycle and treatment effects.
    headache_share: f64,
    /// Chance that a headache day is followed by another (attacks last 1–3 days).
    persistence: f64,
    /// Share of new attacks that are migraine rather than a milder, tension-type headache.
    migraine_share: f64,
    /// Typical peak pain of a migraine attack.
    attack_pain: f64,
    aura_share: f64,
    /// Chance of taking an acute drug for an attack.
    treats_attacks: f64,
    habit: &'static MedicationHabit,
    records_hours: f64,
    records_disability: f64,
    /// Share of the diary's days that are recorded.
    completion: f64,
    /// Missing days come in runs of 1 to this many days.
    longest_gap: usize,
    /// Menstrual cycle (first period's day offset, cycle length), when it matters.
    cycle: Option<(i64, i64)>,
    season_phase: f64,
}

impl Profile {
    fn draw(index: u32, rng: &mut StdRng) -> Self {
        let chronic = matches!(index % 5, 0 | 1 | 3);
        let sparse = index % 10 == 6;
        // A quarter of chronic patients take something on most headache days (overuse risk); the
        // others keep to the clinic's advice of fewer than 10 days a month.
        let heavy_user = rng.gen_bool(if chronic { 0.25 } else { 0.1 });
        let habit_index = rng.gen_range(0..HABITS.len());
        Self {
            chronic,
            headache_share: if chronic {
                rng.gen_range(0.65..0.85)
            } else {
                rng.gen_range(0.12..0.35)
            },
            persistence: if chronic {
                rng.gen_range(0.6..0.75)
            } else {
                rng.gen_range(0.3..0.5)
            },
            migraine_share: if chronic {
                rng.gen_range(0.5..0.75)
            } else {
                rng.gen_range(0.75..0.95)
            },
            attack_pain: rng.gen_range(5.5..7.5),
            aura_share: if rng.gen_bool(0.3) {
                rng.gen_range(0.2..0.6)
            } else {
                0.0
            },
            treats_attacks: if heavy_user {
                rng.gen_range(0.75..0.95)
            } else if chronic {
                rng.gen_range(0.25..0.5)
            } else {
                rng.gen_range(0.5..0.85)
            },
            habit: &HABITS[habit_index],
            records_hours: rng.gen_range(0.8..1.0),
            records_disability: rng.gen_range(0.6..1.0),
            completion: if sparse {
                rng.gen_range(0.6..0.75)
            } else {
                rng.gen_range(0.86..0.97)
            },
            longest_gap: if sparse { 10 } else { 3 },
            cycle: rng
                .gen_bool(0.4)
                .then(|| (rng.gen_range(0..28), rng.gen_range(26..31))),
            season_phase: rng.gen_range(0.0..TAU),
        }
    }

    /// Chance of a headache on `date` (`offset` days into the diary) after `relief` (0–1) from
    /// treatments. Without relief the long-run share of headache days is `headache_share`.
    fn headache_chance(&self, date: NaiveDate, offset: i64, relief: f64, yesterday: bool) -> f64 {
        let season =
            1.0 + 0.12 * (TAU * f64::from(date.ordinal0()) / 365.0 + self.season_phase).sin();
        let menstrual = match self.cycle {
            Some((start, length)) if (offset - start).rem_euclid(length) <= 2 => 1.4,
            _ => 1.0,
        };
        let share = (self.headache_share * season * menstrual * (1.0 - relief)).clamp(0.0, 0.9);
        let persistence = self.persistence * (1.0 - 0.5 * relief);
        if yesterday {
            persistence.max(share)
        } else {
            (share * (1.0 - persistence) / (1.0 - share)).min(1.0)
        }
    }
}

/// A treatment placed in the diary, with the response the generator gives it.
struct PlannedTreatment {
    /// The treatment day, as an offset from the diary's first day.
    offset: i64,
    protocol: &'static Protocol,
    /// Share of headache days taken away while the effect lasts (0–1).
    relief: f64,
    /// Days of full effect after the treatment day; it then wears off over `WEAR_OFF_DAYS`.
    full_days: i64,
    /// Peak-pain points taken away while the effect lasts.
    pain_relief: f64,
}

const WEAR_OFF_DAYS: i64 = 28;
/// A treatment has at least 35 diary days before and after it (a 28-day window and a margin).
const TREATMENT_MARGIN: i64 = 35;

impl PlannedTreatment {
    /// How much of the effect remains `offset` days into the diary (0 before the treatment).
    fn strength(&self, offset: i64) -> f64 {
        let after = offset - self.offset;
        if after < 1 {
            0.0
        } else if after <= self.full_days {
            1.0
        } else {
            (1.0 - (after - self.full_days) as f64 / WEAR_OFF_DAYS as f64).max(0.0)
        }
    }
}

/// Picks 1–3 treatment days spread over the diary and a response for each.
/// Patient 0's first treatment always works and patient 1's never does, so that every demo
/// shows both a responder and a non-responder.
fn plan_treatments(
    index: u32,
    profile: &Profile,
    days: i64,
    rng: &mut StdRng,
) -> Vec<PlannedTreatment> {
    let first = TREATMENT_MARGIN;
    let last = days - 1 - TREATMENT_MARGIN;
    let most = ((last - first) / 90 + 1).clamp(1, 3);
    let count = rng.gen_range(1..=most);
    let segment = (last - first + 1) / count;
    let choices: &[usize] = if profile.chronic {
        &CHRONIC_PROTOCOLS
    } else {
        &EPISODIC_PROTOCOLS
    };
    let mut planned: Vec<PlannedTreatment> = Vec::new();
    for i in 0..count {
        let offset = first + i * segment + rng.gen_range(0..=segment * 2 / 5);
        // After a response, the clinic usually repeats what worked.
        let protocol = match planned.last() {
            Some(previous) if previous.relief >= 0.5 && rng.gen_bool(0.6) => previous.protocol,
            _ => &PROTOCOLS[choices[rng.gen_range(0..choices.len())]],
        };
        let responds = match (index, i) {
            (0, 0) => true,
            (1, 0) => false,
            _ => rng.gen_bool(protocol.response_rate),
        };
        let (relief, full_days, pain_relief) = if responds {
            (
                rng.gen_range(0.55..0.85),
                rng.gen_range(28..=84),
                rng.gen_range(protocol.pain_relief.0..protocol.pain_relief.1),
            )
        } else {
            (
                rng.gen_range(0.0..0.2),
                rng.gen_range(7..=21),
                rng.gen_range(0.0..0.5),
            )
        };
        planned.push(PlannedTreatment {
            offset,
            protocol,
            relief,
            full_days,
            pain_relief,
        });
    }
    planned
}

/// The instant of a local wall-clock time (the earlier one in a DST overlap; in a DST gap, the
/// same time an hour later).
fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + TimeDelta::hours(1)))
                .earliest()
        })
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

fn treatment_content(
    planned: &PlannedTreatment,
    number: usize,
    tz: Tz,
    first_date: NaiveDate,
    today_utc: DateTime<Utc>,
    rng: &mut StdRng,
) -> Result<TreatmentEvent, DemoError> {
    let p = planned.protocol;
    let date = add_days(first_date, planned.offset);
    let time = NaiveTime::from_hms_opt(rng.gen_range(8..14), 15 * rng.gen_range(0..4), 0)
        .unwrap_or(NaiveTime::MIN);
    let started_at = local_instant(tz, date, time);
    let adverse_events = if rng.gen_bool(0.3) {
        vec![p.adverse_events[rng.gen_range(0..p.adverse_events.len())].to_owned()]
    } else {
        Vec::new()
    };
    let notes = match number {
        0 => Some("Refractory to several preventives; first treatment at the clinic.".to_owned()),
        _ if rng.gen_bool(0.5) => Some("Repeat visit; see the diary since the last one.".into()),
        _ => None,
    };
    let draft = TreatmentDraft {
        kind: p.kind,
        name: p.name.to_owned(),
        started_at,
        ended_at: Some(started_at + TimeDelta::minutes(p.minutes)),
        dose: Some(p.dose),
        dose_unit: Some(p.dose_unit.to_owned()),
        notes,
        adverse_events,
    };
    TreatmentEvent::parse(draft, today_utc).map_err(|p| DemoError::InvalidData(p.describe()))
}

fn pick(rng: &mut StdRng, drugs: &[Drug]) -> Option<AcuteMedication> {
    if drugs.is_empty() {
        return None;
    }
    let d = drugs[rng.gen_range(0..drugs.len())];
    Some(AcuteMedication {
        name: d.name.to_owned(),
        class: d.class,
        dose: Some(d.dose.to_owned()),
    })
}

/// Half-hour steps between `low` and `high` hours.
fn hours(rng: &mut StdRng, low: u32, high: u32) -> f64 {
    f64::from(rng.gen_range(low * 2..=high * 2)) / 2.0
}

/// A triangular wobble in −`width`…`width`.
fn wobble(rng: &mut StdRng, width: f64) -> f64 {
    (rng.gen::<f64>() + rng.gen::<f64>() - 1.0) * width
}

fn disability_for(pain: i64, rng: &mut StdRng) -> Disability {
    let worse = rng.gen_bool(0.6);
    match pain {
        0 => Disability::None,
        1..=3 if worse => Disability::Mild,
        1..=3 => Disability::None,
        4..=6 if worse => Disability::Moderate,
        4..=6 => Disability::Mild,
        _ if worse => Disability::Severe,
        _ => Disability::Moderate,
    }
}

/// The kind of headache on a day.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Headache {
    None,
    /// A milder, tension-type headache.
    Plain,
    Migraine,
}

/// One day's entry; `first_of_attack` decides aura, `pain_relief` comes from treatments.
fn diary_entry(
    profile: &Profile,
    headache: Headache,
    first_of_attack: bool,
    pain_relief: f64,
    rng: &mut StdRng,
) -> EntryDraft {
    let mut features = HeadacheFeatures::default();
    let mut acute_medications = Vec::new();
    let (peak_pain, headache_hours) = match headache {
        Headache::None => (0, None),
        Headache::Plain => {
            let pain = (3.0 + wobble(rng, 2.0) - 0.5 * pain_relief).round() as i64;
            features.photophobia = rng.gen_bool(0.2);
            features.aggravated_by_activity = rng.gen_bool(0.15);
            if rng.gen_bool(profile.treats_attacks * 0.5) {
                acute_medications.extend(pick(rng, profile.habit.mild));
            }
            (pain.clamp(1, 6), Some(hours(rng, 1, 10)))
        }
        Headache::Migraine => {
            let pain = (profile.attack_pain + wobble(rng, 2.5) - pain_relief).round() as i64;
            let pain = pain.clamp(2, 10);
            features = HeadacheFeatures {
                aura: first_of_attack && rng.gen_bool(profile.aura_share),
                nausea: rng.gen_bool(0.55),
                vomiting: false,
                photophobia: rng.gen_bool(0.8),
                phonophobia: rng.gen_bool(0.65),
                unilateral: rng.gen_bool(0.6),
                pulsating: rng.gen_bool(0.7),
                aggravated_by_activity: rng.gen_bool(0.6),
            };
            features.vomiting = features.nausea && rng.gen_bool(0.25);
            if rng.gen_bool(profile.treats_attacks) {
                acute_medications.extend(pick(rng, profile.habit.attack));
                if pain >= 7 && rng.gen_bool(0.3) {
                    acute_medications.extend(pick(rng, profile.habit.rescue));
                }
            }
            if features.nausea && rng.gen_bool(0.3) {
                acute_medications.extend(pick(rng, &ANTIEMETICS));
            }
            let cut_short = acute_medications
                .iter()
                .any(|m| m.class.is_migraine_specific())
                && rng.gen_bool(0.3);
            let duration = if cut_short {
                hours(rng, 1, 3)
            } else if first_of_attack {
                hours(rng, 4, 16)
            } else {
                hours(rng, 6, 24)
            };
            (pain, Some(duration))
        }
    };
    let headache_hours = headache_hours.filter(|_| rng.gen_bool(profile.records_hours));
    let disability = rng
        .gen_bool(profile.records_disability)
        .then(|| disability_for(peak_pain, rng));
    let notes = if headache == Headache::None {
        rng.gen_bool(0.01)
            .then(|| GOOD_DAY_NOTES[rng.gen_range(0..GOOD_DAY_NOTES.len())].to_owned())
    } else {
        rng.gen_bool(0.06)
            .then(|| HEADACHE_NOTES[rng.gen_range(0..HEADACHE_NOTES.len())].to_owned())
    };
    EntryDraft {
        peak_pain,
        headache_hours,
        features,
        acute_medications,
        disability,
        notes,
    }
}

/// Which of `days` diary days go unrecorded: runs of 1 to `longest` days at random places,
/// until exactly `share` of the days (rounded) are missing.
fn missing_days(days: i64, share: f64, longest: usize, rng: &mut StdRng) -> Vec<bool> {
    let n = usize::try_from(days).unwrap_or_default();
    let target = ((share.clamp(0.0, 0.9) * n as f64).round() as usize).min(n);
    let mut missing = vec![false; n];
    let mut count = 0;
    while count < target {
        let run = rng.gen_range(1..=longest.max(1)).min(target - count);
        let start = rng.gen_range(0..n);
        for day in missing.iter_mut().skip(start).take(run) {
            if !*day {
                *day = true;
                count += 1;
            }
        }
    }
    missing
}

/// The whole plan of patient `index` (0-based), drawn from `seed`. The diary covers `days`
/// days ending today in the patient's time zone; missing days are simply absent.
fn plan_patient(
    index: u32,
    seed: u64,
    today_utc: DateTime<Utc>,
    days: u32,
) -> Result<PatientPlan, DemoError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let number = index + 1;
    let tz = PATIENT_TIMEZONES[index as usize % PATIENT_TIMEZONES.len()];
    let today = today_utc.with_timezone(&tz).date_naive();
    let days = i64::from(days);
    let first_date = add_days(today, 1 - days);
    let profile = Profile::draw(index, &mut rng);
    let planned = plan_treatments(index, &profile, days, &mut rng);
    let treatments = planned
        .iter()
        .enumerate()
        .map(|(i, p)| treatment_content(p, i, tz, first_date, today_utc, &mut rng))
        .collect::<Result<Vec<_>, _>>()?;

    let missing = missing_days(
        days,
        1.0 - profile.completion,
        profile.longest_gap,
        &mut rng,
    );

    let mut diary = Vec::with_capacity(missing.len());
    let mut yesterday = Headache::None;
    for (offset, missing) in (0..days).zip(missing) {
        let date = add_days(first_date, offset);
        let effect = |t: &PlannedTreatment| t.strength(offset);
        let relief = planned
            .iter()
            .map(|t| t.relief * effect(t))
            .fold(0.0, f64::max);
        let pain_relief = planned
            .iter()
            .map(|t| t.pain_relief * effect(t))
            .fold(0.0, f64::max);
        let chance = profile.headache_chance(date, offset, relief, yesterday != Headache::None);
        let headache = if !rng.gen_bool(chance) {
            Headache::None
        } else if (yesterday == Headache::Migraine && rng.gen_bool(0.85))
            || rng.gen_bool(profile.migraine_share)
        {
            // An attack goes on, or a new headache is a migraine.
            Headache::Migraine
        } else {
            Headache::Plain
        };
        let first_of_attack = yesterday != Headache::Migraine;
        let mut entry = diary_entry(&profile, headache, first_of_attack, pain_relief, &mut rng);
        if planned.iter().any(|t| t.offset == offset) && rng.gen_bool(0.7) {
            entry.notes = Some("Treatment at the clinic today".into());
        }
        yesterday = headache;
        if missing {
            continue;
        }
        let entry = DiaryEntry::parse(date, entry, today)
            .map_err(|p| DemoError::InvalidData(format!("{date}: {}", p.describe())))?;
        diary.push(entry);
    }
    Ok(PatientPlan {
        email: patient_email(number),
        display_name: format!("Demo Patient {number:02}"),
        timezone: tz,
        diary,
        treatments,
    })
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::config::DatabaseArgs;
    use crate::domain::{
        treatment_day, treatment_outcome, DayRecord, TreatmentWindows, WindowStats,
    };

    /// 03:00 UTC: still the 24th in the Americas, already the 25th from London eastwards.
    fn today() -> DateTime<Utc> {
        "2026-11-25T03:00:00Z".parse().unwrap()
    }

    fn small(seed: u64) -> DemoOptions {
        DemoOptions {
            seed,
            patients: 5,
            days: 120,
            ..DemoOptions::default()
        }
    }

    async fn fresh_store(dir: &tempfile::TempDir) -> Store {
        let path = dir.path().join("demo.db");
        Store::connect_and_migrate(&DatabaseArgs::for_url(format!(
            "sqlite://{}?mode=rwc",
            path.display()
        )))
        .await
        .unwrap()
    }

    /// Every stored row that the seed decides (no ids, no timestamps), hashed.
    async fn digest(store: &Store, report: &DemoReport) -> String {
        let mut hasher = Sha256::new();
        for email in &report.patient_emails {
            let user = users::find_by_email(&store.db, email)
                .await
                .unwrap()
                .unwrap();
            hasher.update(format!(
                "{}|{}|{:?}\n",
                user.email, user.timezone, user.display_name
            ));
            let patient = PatientId(user.id.0);
            for stored in diary::list_range(&store.db, patient, None, None, None, 100_000)
                .await
                .unwrap()
            {
                hasher.update(format!("{:?}\n", stored.entry));
            }
            for t in treatments::list(&store.db, patient, None, 100)
                .await
                .unwrap()
            {
                hasher.update(format!("{:?}\n", t.event));
            }
        }
        hex::encode(hasher.finalize())
    }

    #[tokio::test]
    async fn the_same_seed_gives_the_same_clinic() {
        let mut digests = Vec::new();
        for seed in [7, 7, 8] {
            let dir = tempfile::tempdir().unwrap();
            let store = fresh_store(&dir).await;
            let report = seed_demo(&store, &small(seed), today()).await.unwrap();
            assert!(report.diary_entries > 0);
            digests.push(digest(&store, &report).await);
        }
        assert_eq!(digests[0], digests[1], "same seed, same rows");
        assert_ne!(digests[0], digests[2], "another seed, another clinic");
    }

    #[tokio::test]
    async fn the_demo_clinic_is_linked_dated_and_shows_both_outcomes() {
        let dir = tempfile::tempdir().unwrap();
        let store = fresh_store(&dir).await;
        let report = seed_demo(&store, &small(42), today()).await.unwrap();
        assert_eq!(report.patient_emails.len(), 5);
        assert_eq!(
            report.patient_emails[0],
            "patient01@demo.migraine-diary.test"
        );
        let clinician = users::find_by_email(&store.db, CLINICIAN_EMAIL)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(clinician.role, Role::Clinician);

        let mut responder_50 = Vec::new();
        let (mut entries, mut treatment_count) = (0, 0);
        for email in &report.patient_emails {
            let patient = users::find_by_email(&store.db, email)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(patient.role, Role::Patient);
            assert_eq!(
                patient.password_hash, clinician.password_hash,
                "hashed once"
            );
            let patient_id = PatientId(patient.id.0);
            assert!(care::is_linked(&store.db, patient_id, clinician.id)
                .await
                .unwrap());
            let tz: Tz = patient.timezone.tz();
            let local_today = today().with_timezone(&tz).date_naive();
            let rows = diary::list_range(&store.db, patient_id, None, None, None, 1000)
                .await
                .unwrap();
            entries += rows.len();
            let last = rows.iter().map(|r| r.entry.date()).max().unwrap();
            assert!(
                last <= local_today,
                "{email}: {last} is after {local_today}"
            );
            let first = rows.iter().map(|r| r.entry.date()).min().unwrap();
            assert!(first >= add_days(local_today, -119));

            let given = treatments::list(&store.db, patient_id, None, 100)
                .await
                .unwrap();
            assert!((1..=3).contains(&given.len()));
            treatment_count += given.len();
            for t in given {
                assert_eq!(t.recorded_by, clinician.id);
                let windows = TreatmentWindows::new(treatment_day(t.event.started_at(), tz), 28, 1);
                let range = windows.read_range();
                let days = diary::day_records(&store.db, patient_id, range.from, range.to)
                    .await
                    .unwrap();
                responder_50.push(treatment_outcome(&windows, &days).responder_50);
            }
        }
        assert_eq!(entries as u64, report.diary_entries);
        assert_eq!(treatment_count as u64, report.treatments);
        assert!(responder_50.contains(&Some(true)), "{responder_50:?}");
        assert!(responder_50.contains(&Some(false)), "{responder_50:?}");

        let again = seed_demo(&store, &small(42), today()).await;
        assert!(matches!(again, Err(DemoError::AlreadySeeded)), "{again:?}");
        assert_eq!(
            again.unwrap_err().to_string(),
            "the database already holds the demo clinic; use a fresh database"
        );
    }

    /// The default clinic, planned in memory (no database): the mix docs/clinical-rules.md's summaries need.
    #[test]
    fn the_default_clinic_has_the_patterns_the_dashboard_shows() {
        let mut seeds = StdRng::seed_from_u64(DEFAULT_SEED);
        let (mut chronic, mut episodic, mut overuse_patients) = (0, 0, 0);
        let (mut migraine_days, mut plain_headache_days) = (0, 0);
        let mut responder_50 = Vec::new();
        for index in 0..DEFAULT_PATIENTS {
            let plan = plan_patient(index, seeds.gen(), today(), DEFAULT_DAYS).unwrap();
            let records: Vec<DayRecord> = plan.diary.iter().map(DiaryEntry::record).collect();
            let today = today().with_timezone(&plan.timezone).date_naive();
            assert!(plan.diary.iter().all(|e| e.date() <= today));
            let first = add_days(today, 1 - i64::from(DEFAULT_DAYS));
            // Before any treatment (the first is at least 35 days in): chronic or episodic.
            let before = WindowStats::compute(first, add_days(first, 34), &records);
            if before.headache_days_per_28.unwrap() >= 15.0 {
                chronic += 1;
            } else {
                episodic += 1;
            }
            let year = WindowStats::compute(first, today, &records);
            if index % 10 == 6 {
                assert!(year.completion < 0.8, "{}: {}", plan.email, year.completion);
            } else {
                assert!((0.85..=0.98).contains(&year.completion), "{}", plan.email);
            }
            let months: Vec<WindowStats> = (0..13)
                .map(|m| {
                    WindowStats::compute(
                        add_days(first, m * 28),
                        add_days(first, m * 28 + 27),
                        &records,
                    )
                })
                .collect();
            overuse_patients += usize::from(months.iter().any(|w| w.medication_overuse_risk));
            for r in &records {
                let c = crate::domain::classify(r);
                migraine_days += usize::from(c.migraine);
                plain_headache_days += usize::from(c.headache && !c.migraine);
            }
            assert!((1..=3).contains(&plan.treatments.len()));
            for t in &plan.treatments {
                let windows =
                    TreatmentWindows::new(treatment_day(t.started_at(), plan.timezone), 28, 1);
                responder_50.push(treatment_outcome(&windows, &records).responder_50);
            }
        }
        assert!(
            chronic >= 9 && episodic >= 6,
            "{chronic} chronic, {episodic} episodic"
        );
        assert!(
            (3..chronic).contains(&overuse_patients),
            "{overuse_patients} patients with an overuse-risk month"
        );
        assert!(migraine_days > plain_headache_days && plain_headache_days > 100);
        let count = |v: Option<bool>| responder_50.iter().filter(|r| **r == v).count();
        assert!(
            count(Some(true)) >= 5 && count(Some(false)) >= 5,
            "{responder_50:?}"
        );
    }

    #[test]
    fn options_out_of_range_are_refused() {
        for options in [
            DemoOptions {
                patients: 0,
                ..DemoOptions::default()
            },
            DemoOptions {
                days: 30,
                ..DemoOptions::default()
            },
            DemoOptions {
                password: "short".into(),
                ..DemoOptions::default()
            },
        ] {
            assert!(matches!(options.check(), Err(DemoError::InvalidOptions(_))));
        }
        assert!(DemoOptions::default().check().is_ok());
        assert!(!format!("{:?}", DemoOptions::default()).contains(DEMO_PASSWORD));
    }

    #[test]
    fn local_instants_survive_daylight_saving_changes() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let t = |h| NaiveTime::from_hms_opt(h, 30, 0).unwrap();
        let berlin = chrono_tz::Europe::Berlin;
        // 2026-03-29 02:30 does not exist in Berlin: an hour later, 03:30 CEST = 01:30Z
        assert_eq!(
            local_instant(berlin, d("2026-03-29"), t(2)),
            "2026-03-29T01:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let la = chrono_tz::America::Los_Angeles;
        assert_eq!(
            treatment_day(local_instant(la, d("2026-06-09"), t(22)), la),
            d("2026-06-09")
        );
    }
}
