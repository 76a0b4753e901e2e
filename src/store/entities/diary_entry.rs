use sea_orm::entity::prelude::*;

/// One diary day. `feature_flags` and `medication_class_flags` are bit sets derived from the
/// entry on write (see `crate::domain::diary`), so summaries read a few integers per day and
/// never parse JSON; `acute_medications` keeps the full list as JSON text.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "diary_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub entry_date: Date,
    pub peak_pain: i16,
    pub headache_hours: Option<f64>,
    pub feature_flags: i32,
    pub medication_class_flags: i32,
    /// How the day counts (`domain::Classification::to_bits`), written with the day; NULL only
    /// for a row written before the column existed, until `Store::migrate` fills it.
    pub day_class: Option<i16>,
    #[sea_orm(column_type = "Text")]
    pub acute_medications: String,
    pub disability: Option<super::columns::DisabilityColumn>,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    pub version: i32,
    /// The number of this row's latest change in its patient's changes feed.
    pub change_seq: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
