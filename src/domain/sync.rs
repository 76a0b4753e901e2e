//! Paging the changes feed: cursors and the cut of one page out of several change lists.
//!
//! A change is numbered by the patient's change sequence (`store::changes`); a cursor is the
//! number up to which a client has seen everything. Plain values only.

use std::collections::HashMap;

use base64::Engine;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::entry::{parse_batch, DiaryEntry, EntryDraft};
use super::problems::Problems;
use utoipa::ToSchema;

/// The opaque `since` / `next_cursor` of the changes feed: "every change numbered up to `seq`
/// has been seen". Valid forever (numbers only grow and deletions are kept as tombstones).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChangeCursor(pub i64);

const CURSOR_PREFIX: &str = "chg1:";

impl ChangeCursor {
    /// Opaque to clients: base64url of a versioned key, so its form can change later.
    pub fn encode(self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("{CURSOR_PREFIX}{}", self.0).as_bytes())
    }

    /// `None` for anything this feed never handed out.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let seq: i64 = text.strip_prefix(CURSOR_PREFIX)?.parse().ok()?;
        (seq >= 0).then_some(Self(seq))
    }
}

/// One page of changes, in number order.
#[derive(Debug, PartialEq)]
pub struct ChangePage<T> {
    pub items: Vec<T>,
    /// More changes follow: pull again at once with `next`.
    pub has_more: bool,
    pub next: ChangeCursor,
}

/// Cuts the first `limit` changes (by number) out of `changes`, which holds each source list's
/// first `limit + 1` changes numbered at most `upper`. A full page ends at its last change;
/// the last page ends at `upper`, so changes not listed (tombstones on a first pull, gaps of
/// rolled-back writes) are not read again.
pub fn cut_page<T>(mut changes: Vec<(i64, T)>, limit: usize, upper: i64) -> ChangePage<T> {
    changes.sort_by_key(|(seq, _)| *seq);
    let has_more = changes.len() > limit;
    changes.truncate(limit);
    let next = match (has_more, changes.last()) {
        (true, Some((seq, _))) => *seq,
        _ => upper,
    };
    ChangePage {
        items: changes.into_iter().map(|(_, item)| item).collect(),
        has_more,
        next: ChangeCursor(next),
    }
}

/// A batch entry whose `if_version` did not hold (in the 412 answer of the diary batch).
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionConflict {
    /// The day of the entry.
    pub date: NaiveDate,
    /// The version stored now; 0 when the day has no entry (never written, or deleted).
    pub current_version: i32,
}

/// The batch entries whose `if_version` (0: the day must not exist) differs from what is stored,
/// in the order given.
pub fn version_conflicts(
    expected: &[(NaiveDate, i32)],
    stored: &HashMap<NaiveDate, i32>,
) -> Vec<VersionConflict> {
    expected
        .iter()
        .filter_map(|(date, want)| {
            let current_version = stored.get(date).copied().unwrap_or(0);
            (current_version != *want).then_some(VersionConflict {
                date: *date,
                current_version,
            })
        })
        .collect()
}

/// One day of a batch push: the entry and the version it must replace (`Some(0)`: the day must
/// have no entry; `None`: unconditional).
#[derive(Clone, Debug, PartialEq)]
pub struct VersionedEntry {
    pub entry: DiaryEntry,
    pub if_version: Option<i32>,
}

/// [`parse_batch`] plus each entry's `if_version` (a whole number ≥ 0 that fits 32 bits);
/// every problem is reported, named `entries[i].field`.
pub fn parse_versioned_batch(
    days: Vec<(NaiveDate, EntryDraft, Option<i64>)>,
    today: NaiveDate,
) -> Result<Vec<VersionedEntry>, Problems> {
    let mut problems = Problems::new();
    let mut versions = Vec::with_capacity(days.len());
    let mut drafts = Vec::with_capacity(days.len());
    for (i, (date, draft, if_version)) in days.into_iter().enumerate() {
        let version = if_version.map(|v| i32::try_from(v).ok().filter(|v| *v >= 0));
        problems.check(
            !matches!(version, Some(None)),
            format!("entries[{i}].if_version"),
            "must be an integer ≥ 0 (0: the day must have no entry)",
        );
        versions.push(version.flatten());
        drafts.push((date, draft));
    }
    let entries = match parse_batch(drafts, today) {
        Ok(entries) => entries,
        Err(p) => {
            problems.extend(p);
            return Err(problems);
        }
    };
    problems.or_ok(
        entries
            .into_iter()
            .zip(versions)
            .map(|(entry, if_version)| VersionedEntry { entry, if_version })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cursors_round_trip_and_reject_foreign_text() {
        for seq in [0, 1, 41, i64::MAX] {
            assert_eq!(
                ChangeCursor::parse(&ChangeCursor(seq).encode()),
                Some(ChangeCursor(seq))
            );
        }
        assert_eq!(ChangeCursor::parse("42"), None);
        assert_eq!(ChangeCursor::parse(""), None);
        let negative = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("chg1:-3");
        assert_eq!(ChangeCursor::parse(&negative), None);
    }

    #[test]
    fn a_short_page_ends_at_upper() {
        let page = cut_page(vec![(3, 'b'), (1, 'a')], 5, 9);
        assert_eq!(page.items, vec!['a', 'b']);
        assert!(!page.has_more);
        assert_eq!(page.next, ChangeCursor(9));
    }

    #[test]
    fn a_full_page_ends_at_its_last_change() {
        let page = cut_page(vec![(5, 'c'), (2, 'a'), (4, 'b')], 2, 9);
        assert_eq!(page.items, vec!['a', 'b']);
        assert!(page.has_more);
        assert_eq!(page.next, ChangeCursor(4));
    }

    #[test]
    fn conflicts_name_each_mismatch_with_the_stored_version() {
        let d = |n| NaiveDate::from_ymd_opt(2026, 3, n).unwrap();
        let stored = HashMap::from([(d(1), 2), (d(2), 1)]);
        let expected = [(d(1), 2), (d(2), 0), (d(3), 0), (d(4), 1)];
        assert_eq!(
            version_conflicts(&expected, &stored),
            vec![
                VersionConflict {
                    date: d(2),
                    current_version: 1
                },
                VersionConflict {
                    date: d(4),
                    current_version: 0
                },
            ]
        );
    }

    #[test]
    fn batch_versions_are_whole_numbers_from_zero_named_by_entry() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let draft = |pain| EntryDraft {
            peak_pain: pain,
            headache_hours: None,
            features: Default::default(),
            acute_medications: vec![],
            disability: None,
            notes: None,
        };
        let next = day.succ_opt().unwrap();
        let ok =
            parse_versioned_batch(vec![(day, draft(1), Some(0)), (next, draft(2), None)], next)
                .unwrap();
        assert_eq!(ok[0].if_version, Some(0));
        assert_eq!(ok[1].if_version, None);
        let fields = |v| {
            parse_versioned_batch(vec![(day, draft(11), Some(v))], day)
                .unwrap_err()
                .into_iter()
                .map(|p| p.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(-1),
            ["entries[0].if_version", "entries[0].peak_pain"]
        );
        assert_eq!(
            fields(1 << 40),
            ["entries[0].if_version", "entries[0].peak_pain"]
        );
        assert_eq!(fields(3), ["entries[0].peak_pain"]);
    }

    proptest! {
        /// Paging through distinct numbers with any limit lists every change exactly once, in order.
        #[test]
        fn paging_lists_every_change_once(
            seqs in proptest::collection::btree_set(1i64..500, 0..60),
            limit in 1usize..10,
        ) {
            let all: Vec<i64> = seqs.iter().copied().collect();
            let upper = all.last().copied().unwrap_or(0) + 3;
            let mut cursor = ChangeCursor(0);
            let mut seen = Vec::new();
            loop {
                let batch: Vec<(i64, i64)> = all
                    .iter()
                    .filter(|s| **s > cursor.0)
                    .take(limit + 1)
                    .map(|s| (*s, *s))
                    .collect();
                let page = cut_page(batch, limit, upper);
                prop_assert!(page.next > cursor || page.items.is_empty());
                seen.extend(page.items);
                cursor = page.next;
                if !page.has_more {
                    break;
                }
            }
            prop_assert_eq!(seen, all);
            prop_assert_eq!(cursor, ChangeCursor(upper));
        }
    }
}
