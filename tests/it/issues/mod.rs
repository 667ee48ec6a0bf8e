//! Component issues: the webhook, routing, deadlines, reminders, the partner
//! and staff pages, the calendar feed.

mod calendar;
mod deadlines;
mod journey;
mod partner;
mod reminders;
mod routing;
mod scale;
mod staff;
pub mod support;
mod webhook;
