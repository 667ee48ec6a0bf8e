//! The portal with the keyboard alone, in a browser: a skip link comes
//! first and shows when focused, every focused control shows a ring, and a
//! person signs in, invites a colleague choosing the role with the arrow
//! keys, and cancels the invitation through its confirmation step, using
//! only Tab, typing, the arrow keys and Enter.

use crate::{
    browser::Browser,
    fixtures,
    helpers::{PASSWORD, spawn_app},
};

#[tokio::test]
async fn signing_in_and_managing_the_team_with_the_keyboard_alone_in_a_browser() {
    let app = spawn_app().await;
    fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let b = Browser::launch(&app.address).await;
    b.goto("/login").await;

    // The first Tab reaches the skip link, drawn on screen with its ring.
    b.press_tab().await;
    let skip = b.focused().await.expect("the first Tab focuses something");
    assert_eq!(skip.text, "Skip to main content", "{skip:?}");
    assert!(skip.on_screen, "the focused skip link shows: {skip:?}");
    assert!(skip.ring_visible, "the focus is drawn: {skip:?}");
    b.screenshot("keyboard-skip-link").await;

    // Enter moves the focus to the main content: the next Tab is the form.
    b.press_enter_in_page().await;
    b.press_tab().await;
    let email = b.focused().await.expect("a field has the focus");
    assert!(email.in_main, "the skip link leads into <main>: {email:?}");
    assert_eq!(email.text, "Email address");
    assert!(email.ring_visible, "{email:?}");
    b.type_text("ada@acme.test").await;
    b.press_tab().await;
    assert_eq!(b.focused().await.unwrap().text, "Password");
    b.type_text(PASSWORD).await;
    b.press_enter().await;
    b.assert_path("/dashboard").await;

    // Through the navigation to the team page.
    let team = b.tab_to("Team").await;
    assert!(team.ring_visible, "{team:?}");
    b.press_enter().await;
    b.assert_path("/team").await;

    // Invite a colleague as an admin: the arrow key picks the role.
    b.tab_to("Email address").await;
    b.type_text("dan@acme.test").await;
    b.press_tab().await;
    let member = b.focused().await.unwrap();
    assert!(
        member.checked && member.text.starts_with("Member:"),
        "Tab lands on the chosen role: {member:?}"
    );
    b.press_down().await;
    let admin = b.focused().await.unwrap();
    assert!(
        admin.checked && admin.text.starts_with("Admin:"),
        "the down arrow picks the next role: {admin:?}"
    );
    let send = b.tab_to("Send invitation").await;
    assert!(send.ring_visible, "{send:?}");
    b.press_enter().await;
    b.assert_text_contains("Invitation sent to dan@acme.test as an admin")
        .await;

    // Cancelling asks first; Enter opens the question, then confirms.
    b.tab_to("Cancel… the invitation to dan@acme.test").await;
    b.press_enter_in_page().await;
    let confirm = b.tab_to("Cancel the invitation").await;
    assert!(confirm.ring_visible, "{confirm:?}");
    b.press_enter().await;
    b.assert_text_contains("The invitation to dan@acme.test is cancelled")
        .await;
    b.assert_text_contains("No invitations are waiting for an answer.")
        .await;
}
