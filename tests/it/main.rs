//! One integration-test binary (links once), one module per area.

mod helpers;
mod smtp;

mod cli;
mod http_basics;
mod outbox;
mod shutdown;
mod startup;
