//! migraine-diary: the backend of a headache-day diary.
//!
//! [`app`] (in [`router`]) builds the whole HTTP service from an [`AppState`] (in [`state`]); the
//! binary and the integration tests both call it, so tests exercise exactly the router that runs
//! in production. The clinical rules are in [`domain`] and documented in `docs/clinical-rules.md`.

#![deny(unsafe_code)]

pub mod api;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod export;
pub mod limits;
pub mod mail;
pub mod memory;
pub mod metrics;
pub mod report;
pub mod request_id;
pub mod router;
pub mod server;
pub mod service;
pub mod state;
pub mod store;
pub mod web;

pub use router::{app, openapi_document, openapi_json, MAX_BODY_BYTES};
pub use state::AppState;
