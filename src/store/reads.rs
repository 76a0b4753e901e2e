//! Several independent reads sent together.
//!
//! On SQLite every statement is a hand-off to the pooled connection's thread and back, and on
//! this machine's two cores the hand-offs (thread wake-ups) cost more than the reads: a
//! treatment summary's four small reads were four connections woken. [`together`] sends them
//! as one batch of statements to one connection, and tells their rows apart by a constant
//! column it adds to each (`md_part`). PostgreSQL's driver sends one statement at a time, so
//! there they run at once on their own connections.
//!
//! (sqlx calls several statements in one SQLite query deprecated, launchbadge/sqlx#3108, but
//! supports it in the locked 0.9; the group commit's batches rely on it too, and their tests
//! and these fail if an upgrade drops it.)

use sea_orm::sea_query::{Alias, Expr, SelectStatement};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryResult, QueryTrait,
    Select, Statement,
};

/// Tag column of a batch's rows.
const PART: &str = "md_part";

/// One read of a batch: its query and how a row of it decodes.
pub struct Read<T> {
    query: SelectStatement,
    decode: fn(&QueryResult) -> Result<T, DbErr>,
}

impl<T> Read<T> {
    pub fn new<E: EntityTrait>(
        select: Select<E>,
        decode: fn(&QueryResult) -> Result<T, DbErr>,
    ) -> Self {
        Self {
            query: select.into_query(),
            decode,
        }
    }

    /// Decodes this read's rows, as [`together`] returned them.
    pub fn decode(&self, rows: &[QueryResult]) -> Result<Vec<T>, DbErr> {
        rows.iter().map(self.decode).collect()
    }
}

/// Something [`together`] can send: a [`Read`] of any row type.
pub trait Query: Sync {
    fn query(&self) -> &SelectStatement;
}

impl<T> Query for Read<T> {
    fn query(&self) -> &SelectStatement {
        &self.query
    }
}

/// Runs `reads` in one round trip on SQLite (at once on PostgreSQL) and returns each one's
/// rows, in the order of `reads`.
pub async fn together(
    db: &DatabaseConnection,
    reads: &[&dyn Query],
) -> Result<Vec<Vec<QueryResult>>, DbErr> {
    let backend = db.get_database_backend();
    if backend != DbBackend::Sqlite {
        let statements = reads.iter().map(|r| backend.build(r.query()));
        return futures_util::future::try_join_all(statements.map(|s| db.query_all_raw(s))).await;
    }
    let mut sql = Vec::with_capacity(reads.len());
    let mut values = Vec::new();
    for (part, read) in reads.iter().enumerate() {
        let mut query = read.query().clone();
        query.expr_as(Expr::val(part as i64), Alias::new(PART));
        let Statement {
            sql: one,
            values: one_values,
            ..
        } = backend.build(&query);
        sql.push(one);
        values.extend(one_values.map(|v| v.0).unwrap_or_default());
    }
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql.join("; "),
            values,
        ))
        .await?;
    let mut parts: Vec<Vec<QueryResult>> = (0..reads.len()).map(|_| Vec::new()).collect();
    for row in rows {
        let part = row.try_get::<i64>("", PART)?;
        let slot = usize::try_from(part)
            .ok()
            .and_then(|p| parts.get_mut(p))
            .ok_or_else(|| DbErr::Custom(format!("a batch row of unknown part {part}")))?;
        slot.push(row);
    }
    Ok(parts)
}
