//! One integration-test binary (links once), one module per area.

mod agent;
#[allow(dead_code)]
mod fixtures;
mod browser;
mod helpers;
mod smtp;

mod accounts;
mod cli;
mod http_basics;
mod journeys;
mod outbox;
mod shutdown;
mod startup;
