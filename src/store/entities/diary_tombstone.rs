use sea_orm::entity::prelude::*;

/// A deleted diary day, kept so the changes feed can tell other devices (never purged: every
/// cursor ever handed out stays valid). Removed when the day is written again.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "diary_tombstones")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub patient_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub entry_date: Date,
    pub change_seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
