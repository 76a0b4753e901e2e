//! The report's two charts: a calendar of the windows (one cell a day, coloured by peak pain,
//! missing days hatched, the treatment day outlined) and bars of headache days per 28.
//! They draw the figures they are given; nothing here counts or classifies.

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::svg::{Anchor, Svg};
use crate::domain::DayClass;

const INK: &str = "#1f2937";
const MUTED: &str = "#6b7280";
const GRID: &str = "#d1d5db";
/// Hatching of a missing day (a pattern in the calendar's `<defs>`).
const MISSING_PATTERN: &str = r##"<pattern id="missing-day" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="4" height="4" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="4" stroke="#6b7280" stroke-width="1.4"/></pattern>"##;

/// The fill of a recorded day by its peak pain: none, mild (1–3), moderate (4–6), severe (7–10).
pub fn pain_colour(peak_pain: u8) -> &'static str {
    match peak_pain {
        0 => "#d8ecd6",
        1..=3 => "#fcd34d",
        4..=6 => "#f97316",
        _ => "#b91c1c",
    }
}

/// One row of the calendar: a window (or part of one) and its days.
pub struct CalendarRow<'a> {
    pub label: String,
    pub days: &'a [DayClass],
}

/// The calendar: one row per window, `per_row` days wide at most, `width` px in all.
/// `treatment`'s day is outlined, other treatment days get a triangle; days after `today`
/// are left blank (not yet, rather than missing).
pub fn calendar(
    rows: &[CalendarRow<'_>],
    treatment: Option<Uuid>,
    today: NaiveDate,
    width: f64,
) -> String {
    const LABEL: f64 = 118.0;
    const GAP: f64 = 2.0;
    let per_row = rows.iter().map(|r| r.days.len()).max().unwrap_or(1).max(7);
    let cell = ((width - LABEL) / per_row as f64 - GAP).clamp(6.0, 20.0);
    let row_height = cell + 9.0;
    let legend = 18.0;
    let height = rows.len() as f64 * row_height + legend + 4.0;
    let mut svg = Svg::new(width, height, "Calendar of the windows by peak pain");
    svg.defs(MISSING_PATTERN);
    for (r, row) in rows.iter().enumerate() {
        let y = r as f64 * row_height + 6.0;
        svg.text(
            0.0,
            y + cell * 0.72,
            Anchor::Start,
            9.0,
            INK,
            false,
            &row.label,
        );
        for (i, day) in row.days.iter().enumerate() {
            let x = LABEL + i as f64 * (cell + GAP);
            let (fill, stroke, title) = match (day.recorded, day.peak_pain) {
                (true, Some(p)) => (pain_colour(p), "#9ca3af", day_title(day)),
                _ if day.date > today => ("#ffffff", GRID, format!("{}: not yet", day.date)),
                _ => ("url(#missing-day)", "#9ca3af", day_title(day)),
            };
            svg.rect(x, y, cell, cell, fill, stroke, &title);
            if day.acute_medication {
                svg.rect(x + cell - 5.0, y + 1.5, 3.5, 3.5, INK, "none", "");
            }
            let is_t = treatment.is_some_and(|t| day.treatment_ids.contains(&t));
            if is_t {
                svg.outline(x - 1.5, y - 1.5, cell + 3.0, cell + 3.0, INK, 2.2);
                svg.text(
                    x + cell / 2.0,
                    y + cell * 0.72,
                    Anchor::Middle,
                    9.0,
                    INK,
                    true,
                    "T",
                );
            } else if !day.treatment_ids.is_empty() {
                svg.text(
                    x + cell / 2.0,
                    y + cell * 0.75,
                    Anchor::Middle,
                    10.0,
                    INK,
                    true,
                    "▲",
                );
            }
            if day.date.day() == 1 || i == 0 {
                svg.text(
                    x,
                    y + cell + 7.5,
                    Anchor::Start,
                    6.5,
                    MUTED,
                    false,
                    &day.date.format("%-d %b").to_string(),
                );
            }
        }
    }
    let future = rows.iter().any(|r| r.days.iter().any(|d| d.date > today));
    calendar_legend(&mut svg, height - legend + 4.0, treatment.is_some(), future);
    svg.finish()
}

fn day_title(day: &DayClass) -> String {
    let date = day.date.format("%Y-%m-%d");
    match (day.recorded, day.peak_pain) {
        (true, Some(p)) => format!("{date}: peak pain {p}"),
        _ => format!("{date}: not recorded"),
    }
}

fn calendar_legend(svg: &mut Svg, y: f64, with_treatment: bool, future: bool) {
    let items: [(&str, &str); 5] = [
        (pain_colour(0), "no headache"),
        (pain_colour(2), "pain 1–3"),
        (pain_colour(5), "pain 4–6"),
        (pain_colour(8), "pain 7–10"),
        ("url(#missing-day)", "not recorded"),
    ];
    let mut x = 0.0;
    for (fill, label) in items {
        svg.rect(x, y, 10.0, 10.0, fill, "#9ca3af", "");
        svg.text(x + 13.0, y + 8.5, Anchor::Start, 8.5, INK, false, label);
        x += 16.0 + label.chars().count() as f64 * 4.6 + 10.0;
    }
    svg.rect(x, y + 1.0, 4.0, 4.0, INK, "none", "");
    svg.text(
        x + 8.0,
        y + 8.5,
        Anchor::Start,
        8.5,
        INK,
        false,
        "acute medication",
    );
    x += 90.0;
    if with_treatment {
        svg.outline(x, y, 10.0, 10.0, INK, 2.0);
        svg.text(
            x + 14.0,
            y + 8.5,
            Anchor::Start,
            8.5,
            INK,
            false,
            "T treatment day",
        );
        x += 88.0;
    }
    let marker = if with_treatment {
        "other treatment"
    } else {
        "treatment day"
    };
    svg.text(x + 5.0, y + 9.0, Anchor::Middle, 9.0, INK, true, "▲");
    svg.text(x + 13.0, y + 8.5, Anchor::Start, 8.5, INK, false, marker);
    if future {
        x += 96.0;
        svg.rect(x, y, 10.0, 10.0, "#ffffff", GRID, "");
        svg.text(
            x + 13.0,
            y + 8.5,
            Anchor::Start,
            8.5,
            INK,
            false,
            "after today",
        );
    }
}

/// One bar: a window's headache days per 28 (None: nothing recorded).
pub struct Bar {
    pub label: String,
    pub sublabel: String,
    pub value: Option<f64>,
    /// Drawn in the baseline's grey rather than the follow-up blue.
    pub baseline: bool,
}

/// Bars of headache days per 28 on a 0–28 axis; `reference` draws a dashed line (the
/// 50 % responder bound) with its label.
pub fn bars(bars: &[Bar], reference: Option<(f64, &str)>, width: f64, height: f64) -> String {
    const LEFT: f64 = 26.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 30.0;
    let mut svg = Svg::new(width, height, "Headache days per 28 by window");
    let plot_h = height - TOP - BOTTOM;
    let plot_w = width - LEFT - 4.0;
    let y_of = |v: f64| TOP + plot_h * (1.0 - (v / 28.0).clamp(0.0, 1.0));
    for tick in [0.0, 7.0, 14.0, 21.0, 28.0] {
        let y = y_of(tick);
        svg.line((LEFT, y), (LEFT + plot_w, y), GRID, false);
        svg.text(
            LEFT - 4.0,
            y + 3.0,
            Anchor::End,
            8.0,
            MUTED,
            false,
            &format!("{tick:.0}"),
        );
    }
    let slot = plot_w / bars.len().max(1) as f64;
    let bar_w = (slot * 0.6).min(56.0);
    // With many bars (a year in 28-day blocks) labels would collide: label every `step`-th bar
    // and leave out the values and completions that do not fit.
    let step = (40.0 / slot).ceil().max(1.0) as usize;
    let roomy = slot >= 36.0;
    for (i, bar) in bars.iter().enumerate() {
        let cx = LEFT + slot * (i as f64 + 0.5);
        match bar.value {
            Some(v) => {
                let y = y_of(v);
                let fill = if bar.baseline { "#6b7280" } else { "#2563eb" };
                let title = format!(
                    "{} {}: {v:.1} headache days per 28",
                    bar.label, bar.sublabel
                );
                svg.rect(
                    cx - bar_w / 2.0,
                    y,
                    bar_w,
                    y_of(0.0) - y,
                    fill,
                    "none",
                    &title,
                );
                if slot >= 22.0 {
                    let size = if roomy { 9.0 } else { 7.0 };
                    svg.text(
                        cx,
                        y - 3.0,
                        Anchor::Middle,
                        size,
                        INK,
                        roomy,
                        &format!("{v:.1}"),
                    );
                }
            }
            None if roomy => svg.text(
                cx,
                y_of(0.0) - 4.0,
                Anchor::Middle,
                8.0,
                MUTED,
                false,
                "no data",
            ),
            None => {}
        }
        if i % step == 0 {
            svg.text(
                cx,
                height - BOTTOM + 12.0,
                Anchor::Middle,
                8.5,
                INK,
                false,
                &bar.label,
            );
        }
        if roomy {
            svg.text(
                cx,
                height - BOTTOM + 22.0,
                Anchor::Middle,
                7.5,
                MUTED,
                false,
                &bar.sublabel,
            );
        }
    }
    if let Some((value, label)) = reference {
        let y = y_of(value);
        svg.line((LEFT, y), (LEFT + plot_w, y), "#111827", true);
        svg.line(
            (LEFT + plot_w - 86.0, 5.0),
            (LEFT + plot_w - 72.0, 5.0),
            "#111827",
            true,
        );
        svg.text(LEFT + plot_w, 8.0, Anchor::End, 7.5, INK, false, label);
    }
    svg.finish()
}

/// Splits days into calendar rows of at most `per_row` days, labelling each piece.
pub fn rows_of<'a>(label: &str, days: &'a [DayClass], per_row: usize) -> Vec<CalendarRow<'a>> {
    let chunks: Vec<&[DayClass]> = days.chunks(per_row.max(1)).collect();
    let many = chunks.len() > 1;
    chunks
        .into_iter()
        .map(|chunk| CalendarRow {
            label: if many {
                format!("{label} {}", span(chunk))
            } else {
                label.to_owned()
            },
            days: chunk,
        })
        .collect()
}

fn span(days: &[DayClass]) -> String {
    match (days.first(), days.last()) {
        (Some(a), Some(b)) => format!("{}–{}", short(a.date), short(b.date)),
        _ => String::new(),
    }
}

fn short(date: NaiveDate) -> String {
    date.format("%-d %b").to_string()
}
