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

mod accounts;
mod applications;
mod audit;
mod cli;
mod demo;
mod gitlab_sign_in;
mod http_basics;
mod issues;
mod journeys;
mod keyboard_journeys;
mod licenses;
mod listings;
mod namespaces;
mod outbox;
mod remembered_sessions;
mod shutdown;
mod startup;
mod team;
mod team_journeys;
mod tenancy;
