use sea_orm::entity::prelude::*;

/// A treatment's baseline and post window sums for one window length, valid while its stamp
/// (`treatment_day`, `change_seq`) matches (see `store::cohort`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "treatment_window_tallies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub treatment_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub window_days: i16,
    pub treatment_day: Date,
    /// The patient's change counter when the sums were taken.
    pub change_seq: i64,
    /// [`crate::domain::WindowTally`] as comma-separated counts (`store::cohort::encode`).
    pub baseline: String,
    pub post: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
