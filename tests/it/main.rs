//! One integration-test binary (links once), one module per area.

mod agent;
mod browser;
#[allow(dead_code)]
mod fixtures;
mod helpers;
mod smtp;

mod accounts;
mod applications;
mod cli;
mod http_basics;
mod journeys;
mod listings;
mod namespaces;
mod outbox;
mod shutdown;
mod startup;
