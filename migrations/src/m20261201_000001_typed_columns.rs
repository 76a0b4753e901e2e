//! CHECK constraints for the columns that hold a closed set or a bounded number: `users.role`,
//! `treatments.kind` and `dose`, and the diary's `peak_pain`, `headache_hours`, `disability`,
//! bit sets and `version`. The application refuses such values already; these make the database
//! refuse them too (a hand-written `UPDATE`, a future bug), so a row can always be read back.
//!
//! Existing databases migrate in place, and a database that already holds a breaking row fails
//! to migrate with the table and rule named (fix the row, run `migrate` again).
//!
//! - PostgreSQL: real `ALTER TABLE … ADD CONSTRAINT … CHECK`, which also validates existing rows.
//! - SQLite cannot add a constraint to an existing table; the alternative, rebuilding each table
//!   (create a copy, copy rows, drop, rename), has to juggle the foreign keys of four tables
//!   pointing at `users`. Instead each rule is enforced by a `BEFORE INSERT` and a
//!   `BEFORE UPDATE` trigger that aborts with `CHECK constraint failed: <name>`, and existing
//!   rows are checked once here. Same effect for every write, no table rebuilt.
//!
//! The value lists are the ones of this date; a new treatment kind (or role, or disability
//! level) needs a new migration that replaces the constraint.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(table, constraint name, columns the rule reads, rule)`. In a rule, `{r}.` stands for the
/// row: empty in a CHECK, `NEW.` in a trigger.
const RULES: &[(&str, &str, &str, &str)] = &[
    (
        "users",
        "ck_users_role",
        "role",
        "{r}role IN ('patient', 'clinician', 'admin')",
    ),
    (
        "treatments",
        "ck_treatments_kind",
        "kind",
        "{r}kind IN ('iv_ketamine', 'intranasal_ketamine', 'iv_magnesium', \
         'iv_dopamine_antagonist', 'iv_dihydroergotamine', 'iv_lidocaine', \
         'sphenopalatine_ganglion_block', 'stellate_ganglion_block', 'occipital_nerve_block', \
         'onabotulinumtoxina', 'other')",
    ),
    ("treatments", "ck_treatments_dose", "dose", "{r}dose >= 0"),
    (
        "diary_entries",
        "ck_diary_entries_peak_pain",
        "peak_pain",
        "{r}peak_pain BETWEEN 0 AND 10",
    ),
    (
        "diary_entries",
        "ck_diary_entries_headache_hours",
        "peak_pain, headache_hours",
        "{r}headache_hours BETWEEN 0 AND 24 AND NOT ({r}peak_pain = 0 AND {r}headache_hours > 0)",
    ),
    (
        "diary_entries",
        "ck_diary_entries_disability",
        "disability",
        "{r}disability IN ('none', 'mild', 'moderate', 'severe')",
    ),
    // The bit sets fit the 16 bits the application reads; unknown bits are ignored on read, so
    // a new feature or medication class needs no new constraint.
    (
        "diary_entries",
        "ck_diary_entries_flags",
        "feature_flags, medication_class_flags",
        "{r}feature_flags BETWEEN 0 AND 65535 AND {r}medication_class_flags BETWEEN 0 AND 65535",
    ),
    (
        "diary_entries",
        "ck_diary_entries_version",
        "version",
        "{r}version >= 1",
    ),
];

fn rule(template: &str, row: &str) -> String {
    template.replace("{r}", row)
}

async fn exec(manager: &SchemaManager<'_>, sql: String) -> Result<(), DbErr> {
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

/// Fails when a row of `table` breaks `check` (SQLite; PostgreSQL's ADD CONSTRAINT does this).
async fn refuse_breaking_rows(
    manager: &SchemaManager<'_>,
    table: &str,
    name: &str,
    check: &str,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE NOT ({check})");
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await?;
    let breaking: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    if breaking > 0 {
        return Err(DbErr::Migration(format!(
            "{breaking} row(s) of {table} break {name} ({check}); fix them, then migrate again"
        )));
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sqlite = manager.get_database_backend() == DbBackend::Sqlite;
        for (table, name, columns, template) in RULES {
            if !sqlite {
                let check = rule(template, "");
                exec(
                    manager,
                    format!("ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({check})"),
                )
                .await?;
                continue;
            }
            refuse_breaking_rows(manager, table, name, &rule(template, "")).await?;
            let when = rule(template, "NEW.");
            for (suffix, event) in [
                ("insert", "INSERT".to_owned()),
                ("update", format!("UPDATE OF {columns}")),
            ] {
                exec(
                    manager,
                    format!(
                        "CREATE TRIGGER {name}_{suffix} BEFORE {event} ON {table} FOR EACH ROW \
                         WHEN NOT ({when}) \
                         BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"
                    ),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sqlite = manager.get_database_backend() == DbBackend::Sqlite;
        for (table, name, _, _) in RULES {
            if sqlite {
                exec(manager, format!("DROP TRIGGER IF EXISTS {name}_insert")).await?;
                exec(manager, format!("DROP TRIGGER IF EXISTS {name}_update")).await?;
            } else {
                exec(
                    manager,
                    format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"),
                )
                .await?;
            }
        }
        Ok(())
    }
}
