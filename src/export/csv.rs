//! The diary as CSV (RFC 4180), one row per recorded day, and back.
//!
//! The header is fixed (README "Export and the visit report"); booleans are `true`/`false`
//! (any case on import, since spreadsheets write `TRUE`); an empty cell is an absent value.
//! `acute_medications` holds `name|class|dose` items joined by `;` (the dose part is left out
//! when there is no dose); a `\`, `|` or `;` inside a name or dose is written `\\`, `\|`, `\;`.
//!
//! Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and
//! some a leading tab or carriage return) as a formula. Such text cells are written with a
//! leading `'`, which spreadsheets show as plain text, and the import drops it again. A text
//! cell that itself starts with `'` gets one more, so the round trip is exact.

use chrono::NaiveDate;
use serde::de::IntoDeserializer;
use serde::Deserialize;

use super::wire_name;
use crate::domain::{
    AcuteMedication, DiaryEntry, Disability, EntryDraft, HeadacheFeatures, MedicationClass,
    Problems,
};

/// The header line, exactly.
pub const HEADER: [&str; 14] = [
    "date",
    "peak_pain",
    "headache_hours",
    "aura",
    "nausea",
    "vomiting",
    "photophobia",
    "phonophobia",
    "unilateral",
    "pulsating",
    "aggravated_by_activity",
    "acute_medications",
    "disability",
    "notes",
];

/// Most data rows one import takes: ten years of days.
pub const MAX_IMPORT_ROWS: usize = 3660;

/// Most problems one 422 lists; a wholly wrong file would otherwise answer with thousands.
const MAX_PROBLEMS: usize = 100;

/// Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection), plus the
/// quote that marks a defused cell.
const FORMULA_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

/// One data row of an import: its line (the header is line 1), day and content (not yet
/// checked against the diary's rules: [`DiaryEntry::parse`] does that).
#[derive(Debug, Clone)]
pub struct ImportedDay {
    pub line: u64,
    pub date: NaiveDate,
    pub entry: EntryDraft,
}

/// Writes the entries (in the order given) under the fixed header, CRLF line ends.
pub fn write_diary(entries: &[DiaryEntry]) -> Result<String, ::csv::Error> {
    let mut out = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    out.write_record(HEADER)?;
    for e in entries {
        let f = e.features();
        let flag = |b: bool| if b { "true" } else { "false" }.to_owned();
        out.write_record([
            e.date().format("%Y-%m-%d").to_string(),
            e.peak_pain().to_string(),
            e.headache_hours()
                .map(|h| h.to_string())
                .unwrap_or_default(),
            flag(f.aura),
            flag(f.nausea),
            flag(f.vomiting),
            flag(f.photophobia),
            flag(f.phonophobia),
            flag(f.unilateral),
            flag(f.pulsating),
            flag(f.aggravated_by_activity),
            defuse(medications_cell(e.acute_medications())),
            e.disability().map(|d| wire_name(&d)).unwrap_or_default(),
            defuse(e.notes().unwrap_or_default().to_owned()),
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).unwrap_or_default())
}

/// Reads a whole file in the export's format. Every problem is reported as
/// `line N: field` (at most 100 of them); nothing is returned unless the whole file is good.
/// The rules of a diary day (pain range, dates, lengths) are the API's, checked afterwards.
pub fn read_diary(text: &str) -> Result<Vec<ImportedDay>, Problems> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut problems = Problems::new();
    let mut days = Vec::new();
    let mut seen: std::collections::HashMap<NaiveDate, u64> = Default::default();
    let mut header_seen = false;
    for result in reader.records() {
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
        let record = match result {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problem(
                    &mut problems,
                    line,
                    "row",
                    "is not valid CSV (RFC 4180) in UTF-8",
                );
                break;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if !header_seen {
            header_seen = true;
            if record.iter().ne(HEADER) {
                problem(
                    &mut problems,
                    line,
                    "header",
                    format!("must be exactly `{}`", HEADER.join(",")),
                );
                break;
            }
            continue;
        }
        if days.len() >= MAX_IMPORT_ROWS {
            problem(
                &mut problems,
                line,
                "row",
                format!("a file holds at most {MAX_IMPORT_ROWS} days"),
            );
            break;
        }
        if record.len() != HEADER.len() {
            problem(
                &mut problems,
                line,
                "row",
                format!("has {} cells, the header {}", record.len(), HEADER.len()),
            );
            continue;
        }
        let cells: Vec<&str> = record.iter().collect();
        if let Some(day) = read_row(line, &cells, &mut problems) {
            if let Some(first) = seen.insert(day.date, line) {
                problem(
                    &mut problems,
                    line,
                    "date",
                    format!("the same day as line {first}"),
                );
            }
            days.push(day);
        }
    }
    if !header_seen && problems.is_empty() {
        problem(&mut problems, 1, "header", "the file is empty");
    }
    problems.or_ok(days)
}

fn problem(problems: &mut Problems, line: u64, field: &str, message: impl Into<String>) {
    problems.add(format!("line {line}: {field}"), message);
}

/// One data row (already 14 cells) → a day, or its problems.
fn read_row(line: u64, cells: &[&str], problems: &mut Problems) -> Option<ImportedDay> {
    let before = problems.len();
    let mut fail = |field: &str, message: &str| problem(problems, line, field, message);
    let date = NaiveDate::parse_from_str(cells[0], "%Y-%m-%d").ok();
    if date.is_none() {
        fail("date", "must be a date `YYYY-MM-DD`");
    }
    let peak_pain = cells[1].parse::<i64>().ok();
    if peak_pain.is_none() {
        fail("peak_pain", "must be a whole number from 0 to 10");
    }
    let headache_hours = match cells[2] {
        "" => None,
        text => {
            let hours = text.parse::<f64>().ok();
            if hours.is_none() {
                fail("headache_hours", "must be a number from 0 to 24, or empty");
            }
            hours
        }
    };
    let mut flags = [false; 8];
    for (i, flag) in flags.iter_mut().enumerate() {
        let cell = cells[3 + i];
        match parse_bool(cell) {
            Some(value) => *flag = value,
            None => fail(HEADER[3 + i], "must be `true`, `false` or empty"),
        }
    }
    let acute_medications = match parse_medications(restore(cells[11])) {
        Ok(meds) => meds,
        Err(message) => {
            fail("acute_medications", &message);
            Vec::new()
        }
    };
    let disability = match cells[12] {
        "" => None,
        text => {
            let parsed = from_wire_name::<Disability>(text);
            if parsed.is_none() {
                fail(
                    "disability",
                    "must be `none`, `mild`, `moderate`, `severe` or empty",
                );
            }
            parsed
        }
    };
    let notes = Some(restore(cells[13]).to_owned()).filter(|n| !n.is_empty());
    if problems.len() > before {
        return None;
    }
    let [aura, nausea, vomiting, photophobia, phonophobia, unilateral, pulsating, aggravated_by_activity] =
        flags;
    Some(ImportedDay {
        line,
        date: date?,
        entry: EntryDraft {
            peak_pain: peak_pain?,
            headache_hours,
            features: HeadacheFeatures {
                aura,
                nausea,
                vomiting,
                photophobia,
                phonophobia,
                unilateral,
                pulsating,
                aggravated_by_activity,
            },
            acute_medications,
            disability,
            notes,
        },
    })
}

fn parse_bool(cell: &str) -> Option<bool> {
    match cell.to_ascii_lowercase().as_str() {
        "" | "false" => Some(false),
        "true" => Some(true),
        _ => None,
    }
}

fn from_wire_name<'a, T: Deserialize<'a>>(text: &'a str) -> Option<T> {
    T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(text)).ok()
}

/// Prefixes a text cell that a spreadsheet would run as a formula.
pub fn defuse(cell: String) -> String {
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// Undoes [`defuse`]: drops the `'` it added, and only that.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

fn escape_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '|' | ';') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `name|class|dose;name|class` (dose left out when absent).
fn medications_cell(meds: &[AcuteMedication]) -> String {
    meds.iter()
        .map(|m| {
            let mut item = format!("{}|{}", escape_part(&m.name), wire_name(&m.class));
            if let Some(dose) = &m.dose {
                item.push('|');
                item.push_str(&escape_part(dose));
            }
            item
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Splits a medications cell into items of parts, honouring `\` escapes.
fn split_medications(cell: &str) -> Result<Vec<Vec<String>>, String> {
    let mut items = vec![vec![String::new()]];
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        let item = items.last_mut().ok_or("empty")?;
        match c {
            '\\' => match chars.next() {
                Some(next @ ('\\' | '|' | ';')) => item.last_mut().ok_or("empty")?.push(next),
                _ => return Err("a `\\` must be followed by `\\`, `|` or `;`".into()),
            },
            '|' => item.push(String::new()),
            ';' => items.push(vec![String::new()]),
            other => item.last_mut().ok_or("empty")?.push(other),
        }
    }
    Ok(items)
}

fn parse_medications(cell: &str) -> Result<Vec<AcuteMedication>, String> {
    if cell.is_empty() {
        return Ok(Vec::new());
    }
    let mut meds = Vec::new();
    for (i, parts) in split_medications(cell)?.into_iter().enumerate() {
        let (name, class, dose) = match parts.as_slice() {
            [name, class] => (name, class, None),
            [name, class, dose] => (name, class, Some(dose.clone())),
            _ => {
                return Err(format!(
                    "item {} must be `name|class` or `name|class|dose`",
                    i + 1
                ))
            }
        };
        let class = from_wire_name::<MedicationClass>(class)
            .ok_or_else(|| format!("item {}: `{class}` is not a medication class", i + 1))?;
        meds.push(AcuteMedication {
            name: name.clone(),
            class,
            dose,
        });
    }
    Ok(meds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(meds: Vec<AcuteMedication>, notes: Option<&str>) -> DiaryEntry {
        let draft = EntryDraft {
            peak_pain: 6,
            headache_hours: Some(2.5),
            features: HeadacheFeatures {
                nausea: true,
                ..Default::default()
            },
            acute_medications: meds,
            disability: Some(Disability::Mild),
            notes: notes.map(str::to_owned),
        };
        DiaryEntry::parse_stored(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), draft).unwrap()
    }

    fn med(name: &str, class: MedicationClass, dose: Option<&str>) -> AcuteMedication {
        AcuteMedication {
            name: name.into(),
            class,
            dose: dose.map(str::to_owned),
        }
    }

    fn lines(text: &str) -> Vec<&str> {
        text.split("\r\n").collect()
    }

    #[test]
    fn a_day_is_one_row_under_the_fixed_header() {
        let meds = vec![
            med("sumatriptan", MedicationClass::Triptan, Some("50 mg")),
            med("ibuprofen", MedicationClass::Nsaid, None),
        ];
        let text = write_diary(&[entry(meds, Some("woke up, with it"))]).unwrap();
        let lines = lines(&text);
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(
            lines[1],
            "2026-03-01,6,2.5,false,true,false,false,false,false,false,false,\
             sumatriptan|triptan|50 mg;ibuprofen|nsaid,mild,\"woke up, with it\""
        );
        assert_eq!(lines[2], "");
    }

    #[test]
    fn formula_cells_are_defused_and_restored() {
        for text in [
            "=1+1", "+1", "-2", "@SUM(A1)", "\tx", "'quoted'", "''", "plain",
        ] {
            let cell = defuse(text.to_owned());
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t']), "{cell}");
            assert_eq!(restore(&cell), text);
        }
        // A hand-written apostrophe before ordinary text is the patient's own.
        assert_eq!(restore("'tis"), "'tis");
    }

    #[test]
    fn awkward_text_round_trips() {
        let meds = vec![
            med(
                "=HYPERLINK(\"x\")",
                MedicationClass::Other,
                Some("1|2;3\\4"),
            ),
            med("a;b", MedicationClass::SimpleAnalgesic, Some("")),
        ];
        let original = entry(meds, Some("-dizzy\n\"line two\", =cmd"));
        let text = write_diary(std::slice::from_ref(&original)).unwrap();
        assert!(text.contains("'=HYPERLINK"));
        let days = read_diary(&text).unwrap();
        assert_eq!(days.len(), 1);
        let got = &days[0].entry;
        let back = DiaryEntry::parse_stored(days[0].date, got.clone()).unwrap();
        assert_eq!(back, original);
    }

    fn fields(text: &str) -> Vec<String> {
        read_diary(text)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn problems_name_line_and_field() {
        let header = HEADER.join(",");
        let good = "2026-03-01,3,,,,,,,,,,,,";
        assert_eq!(read_diary(&format!("{header}\n{good}\n")).unwrap().len(), 1);
        assert_eq!(fields("date,pain\n"), vec!["line 1: header"]);
        assert_eq!(fields(""), vec!["line 1: header"]);
        let bad = format!(
            "{header}\n{good}\n2026-02-30,x,-,yes,,,,,,,,aspirin|candy,awful,\n2026-03-01,1,,,,,,,,,,,,\n1,2\n"
        );
        assert_eq!(
            fields(&bad),
            vec![
                "line 3: date",
                "line 3: peak_pain",
                "line 3: headache_hours",
                "line 3: aura",
                "line 3: acute_medications",
                "line 3: disability",
                "line 4: date",
                "line 5: row",
            ]
        );
    }

    #[test]
    fn quoted_newlines_keep_line_numbers_of_the_file() {
        let header = HEADER.join(",");
        let text =
            format!("{header}\n2026-03-01,3,,,,,,,,,,,,\"a\nb\"\n2026-03-02,x,,,,,,,,,,,,\n");
        assert_eq!(fields(&text), vec!["line 4: peak_pain"]);
    }

    #[test]
    fn spreadsheet_booleans_and_a_bom_are_accepted() {
        let header = HEADER.join(",");
        let text = format!("\u{feff}{header}\r\n2026-03-01,3,,TRUE,False,,,,,,,,,\r\n");
        let days = read_diary(&text).unwrap();
        assert!(days[0].entry.features.aura);
        assert!(!days[0].entry.features.nausea);
    }

    mod round_trip {
        use super::*;
        use proptest::prelude::*;

        /// Text with every character the format has to escape, quote or defuse.
        fn awkward_text(max: usize) -> impl Strategy<Value = String> {
            proptest::collection::vec(
                prop_oneof![
                    Just('a'),
                    Just('Z'),
                    Just(' '),
                    Just(','),
                    Just(';'),
                    Just('|'),
                    Just('\\'),
                    Just('"'),
                    Just('\''),
                    Just('\n'),
                    Just('\r'),
                    Just('\t'),
                    Just('='),
                    Just('+'),
                    Just('-'),
                    Just('@'),
                    Just('é'),
                ],
                1..max,
            )
            .prop_map(|chars| chars.into_iter().collect())
        }

        fn medication() -> impl Strategy<Value = AcuteMedication> {
            (
                awkward_text(12).prop_filter("not blank", |n| !n.trim().is_empty()),
                proptest::sample::select(MedicationClass::ALL.to_vec()),
                proptest::option::of(prop_oneof![Just(String::new()), awkward_text(10)]),
            )
                .prop_map(|(name, class, dose)| AcuteMedication { name, class, dose })
        }

        fn entry() -> impl Strategy<Value = DiaryEntry> {
            (
                0i64..=10,
                proptest::option::of(0u32..=96),
                proptest::array::uniform8(any::<bool>()),
                proptest::collection::vec(medication(), 0..4),
                proptest::option::of(proptest::sample::select(Disability::ALL.to_vec())),
                proptest::option::of(awkward_text(40)),
                0i64..3000,
            )
                .prop_map(|(pain, quarters, f, meds, disability, notes, day)| {
                    let hours = quarters.map(|q| if pain == 0 { 0.0 } else { f64::from(q) / 4.0 });
                    let draft = EntryDraft {
                        peak_pain: pain,
                        headache_hours: hours,
                        features: HeadacheFeatures {
                            aura: f[0],
                            nausea: f[1],
                            vomiting: f[2],
                            photophobia: f[3],
                            phonophobia: f[4],
                            unilateral: f[5],
                            pulsating: f[6],
                            aggravated_by_activity: f[7],
                        },
                        acute_medications: meds,
                        disability,
                        notes,
                    };
                    let date = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap()
                        + chrono::Days::new(day as u64);
                    DiaryEntry::parse_stored(date, draft).unwrap()
                })
        }

        proptest! {
            #[test]
            fn export_then_import_gives_the_same_entries(
                entries in proptest::collection::btree_map(0i64..3000, entry(), 0..6)
            ) {
                // One entry per date, in date order, as the diary holds them.
                let mut by_date: Vec<DiaryEntry> = entries.into_values().collect();
                by_date.sort_by_key(|e| e.date());
                by_date.dedup_by_key(|e| e.date());
                let text = write_diary(&by_date).unwrap();
                let back: Vec<DiaryEntry> = read_diary(&text)
                    .unwrap()
                    .into_iter()
                    .map(|d| DiaryEntry::parse_stored(d.date, d.entry).unwrap())
                    .collect();
                prop_assert_eq!(back, by_date);
            }
        }
    }
}
