//! Integration tests: the real router, in process, on a fresh database per test
//! (SQLite by default; PostgreSQL when `TEST_POSTGRES_URL` is set).

#[path = "../common/mod.rs"]
mod common;

mod access_cache;
mod accounts;
mod audit;
mod authorization;
mod care_team;
mod changes;
mod connections;
mod contract;
mod data_rights;
mod day_class;
mod diary;
mod export;
mod group_commit;
mod hardening;
mod limits;
mod migrations;
mod openapi;
mod ops;
mod ops_server;
mod outcomes;
mod password_reset;
mod questionnaires;
mod server;
mod sessions;
mod store_settings;
mod sync_property;
mod treatments;
