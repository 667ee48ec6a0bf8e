//! One integration-test binary (links once), one module per area.

// Tests arrange rows in transactions of their own, never inside a request
// that can be dropped: the pool's `begin` is fine here (clippy.toml
// refuses it in the portal).
#![allow(clippy::disallowed_methods)]

mod agent;
mod browser;
#[allow(dead_code)]
mod fixtures;
mod gitlab;
mod helpers;
mod smtp;
mod snapshot;

mod accounts;
mod api;
mod applications;
mod audit;
mod cli;
mod client_address;
mod demo;
mod exports;
mod fuzz;
mod gitlab_sign_in;
mod http_basics;
mod insights;
mod issues;
mod journeys;
mod keyboard_journeys;
mod licenses;
mod listings;
mod metrics;
mod namespaces;
mod outbox;
mod remembered_sessions;
mod secrets_at_rest;
mod shutdown;
mod startup;
mod team;
mod team_journeys;
mod tenancy;
mod text_input;
mod write_limits;
