use sea_orm::entity::prelude::*;

/// One completed questionnaire. `answers` is a JSON array of integers by item number (never item
/// text); score and grade are derived on read by `crate::domain::questionnaire`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "questionnaire_responses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub instrument: String,
    pub completed_on: Date,
    #[sea_orm(column_type = "Text")]
    pub answers: String,
    #[sea_orm(column_name = "headache_days_3_months")]
    pub headache_days_3_months: Option<i16>,
    pub average_pain: Option<i16>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
