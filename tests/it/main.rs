//! One integration-test binary (links once), one module per area.

mod browser;
mod helpers;
mod smtp;

mod cli;
mod http_basics;
mod journeys;
mod outbox;
mod shutdown;
mod startup;
