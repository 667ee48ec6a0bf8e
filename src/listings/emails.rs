//! Emails of the listings area: the staff decision on a submission.

use crate::{config::Config, mail::Notice};

pub fn approved(
    config: &Config,
    name: &str,
    display_name: &str,
    slug: &str,
    note: Option<&str>,
) -> Notice {
    let notice = Notice::new("listing_approved", format!("{display_name} is live in the partner directory"), name)
        .paragraph(format!("The alliance team approved your directory listing. {display_name} now appears in the public partner directory with its badged components."));
    let notice = match note {
        Some(n) => notice.paragraph(format!("Note from the alliance team: {n}")),
        None => notice,
    };
    notice.action(
        "See your directory page",
        config.link(&format!("/partners/{slug}")),
    )
}

pub fn rejected(
    config: &Config,
    name: &str,
    display_name: &str,
    reason: &str,
    live: bool,
) -> Notice {
    let notice = Notice::new(
        "listing_rejected",
        format!("Your directory listing for {display_name} was not approved"),
        name,
    )
    .paragraph(
        "The alliance team reviewed your directory listing and could not approve it as submitted.",
    )
    .paragraph(format!("Their reason: {reason}"));
    let notice = if live {
        notice.paragraph("Your previously approved listing stays in the directory unchanged.")
    } else {
        notice
    };
    notice.action("Edit your listing", config.link("/listing"))
}
