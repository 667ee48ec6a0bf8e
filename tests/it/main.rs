//! One integration-test binary (links once), one module per area.

mod agent;
mod browser;
#[allow(dead_code)]
mod fixtures;
mod helpers;
mod smtp;

mod accounts;
mod applications;
mod audit;
mod cli;
mod demo;
mod http_basics;
mod issues;
mod journeys;
mod keyboard_journeys;
mod licenses;
mod listings;
mod namespaces;
mod outbox;
mod shutdown;
mod startup;
mod team;
mod team_journeys;
mod tenancy;
