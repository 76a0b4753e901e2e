//! sea-orm entities: the rows as the database stores them. API types live in `crate::api`;
//! the store converts between the two so a column change never leaks into the contract.

pub mod audit_event;
pub mod care_invite;
pub mod care_link;
pub mod columns;
pub mod diary_entry;
pub mod diary_tombstone;
pub mod password_reset;
pub mod questionnaire_response;
pub mod refresh_token;
pub mod session;
pub mod treatment;
pub mod treatment_tombstone;
pub mod treatment_window_tally;
pub mod user;
