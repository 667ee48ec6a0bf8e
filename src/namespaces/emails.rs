//! Emails of the namespaces area: the decision on a registration, and a
//! verification taken back.

use crate::{config::Config, mail::Notice};

pub fn verified(config: &Config, name: &str, url: &str, namespace_id: i64) -> Notice {
    Notice::new("namespace_verified", format!("Namespace verified: {url}"), name)
        .paragraph(format!("The alliance team verified your namespace {url}."))
        .paragraph("Its CI/CD Catalog components now carry the partner badge. List them in the portal so they appear on your directory page.")
        .action("List your components", config.link(&format!("/namespaces/{namespace_id}")))
}

pub fn rejected(config: &Config, name: &str, url: &str, reason: &str) -> Notice {
    Notice::new(
        "namespace_rejected",
        format!("Namespace not verified: {url}"),
        name,
    )
    .paragraph(format!(
        "The alliance team could not verify your namespace {url}."
    ))
    .paragraph(format!("Their reason: {reason}"))
    .paragraph("You can register it again once the problem is solved.")
    .action("Your namespaces", config.link("/namespaces"))
}

pub fn revoked(config: &Config, name: &str, url: &str, reason: &str) -> Notice {
    Notice::new(
        "namespace_revoked",
        format!("Namespace no longer verified: {url}"),
        name,
    )
    .paragraph(format!(
        "The alliance team withdrew the verification of your namespace {url}: its components no longer carry the partner badge."
    ))
    .paragraph(format!("Their reason: {reason}"))
    .paragraph("You can register it again once the problem is solved.")
    .action("Your namespaces", config.link("/namespaces"))
}
