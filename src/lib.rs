//! Partner Portal: a multi-tenant web application that runs a technology
//! alliance partner program.

pub mod accounts;
pub mod applications;
pub mod audit;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod config;
pub mod csv;
pub mod dates;
pub mod db;
pub mod decisions;
pub mod demo;
pub mod error;
pub mod http;
pub mod input;
pub mod issues;
pub mod jobs;
pub mod licenses;
pub mod limits;
pub mod listings;
pub mod mail;
pub mod namespaces;
pub mod organizations;
pub mod queue;
pub mod search;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod views;
