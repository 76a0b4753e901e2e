use sea_orm::entity::prelude::*;

/// One access to one patient's data by someone else. Ids only, no health data; the table
/// refuses UPDATE and DELETE (migration `m20261201_400001_audit_events`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub actor_id: Uuid,
    pub actor_role: String,
    pub patient_id: Uuid,
    pub action: String,
    pub resource: String,
    pub outcome: i32,
    pub request_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
