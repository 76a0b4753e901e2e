use sea_orm::entity::prelude::*;

/// The live password-reset code of an account (at most one); only its SHA-256 is stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "password_resets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub user_id: Uuid,
    pub code_hash: String,
    pub expires_at: DateTimeUtc,
    /// Wrong codes tried so far; the code is spent at the limit.
    pub attempts: i32,
    /// The admin who issued the code at the clinic desk; null when mailed on request.
    pub issued_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
