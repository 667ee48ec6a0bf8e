//! The "done means": a partner registers `https://GitLab.com/Acme-Corp/`,
//! staff verify it, it is in the feed and on the partner's directory page
//! with its components.

use partner_portal::accounts::staff::StaffRole;

use super::{approve_latest, fields, slug_of, submit};
use crate::{
    fixtures,
    helpers::spawn_app,
    namespaces::{add_component, feed, namespace_id, register},
};

#[tokio::test]
async fn a_registered_namespace_verified_by_staff_is_in_the_feed_and_on_the_directory_page_with_its_components()
 {
    let app = spawn_app().await;
    let (ada, partner_id) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let staff = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;

    register(&ada, "https://GitLab.com/Acme-Corp/")
        .await
        .assert_redirect("/namespaces");
    let ns = namespace_id(&app, "https://gitlab.com/acme-corp").await;
    staff.get(&format!("/admin/namespaces/{ns}")).await;
    staff
        .post(
            &format!("/admin/namespaces/{ns}/verify"),
            &[("reason", "Group owned by Acme's staff.")],
        )
        .await
        .assert_redirect(&format!("/admin/namespaces/{ns}"));

    let items = feed(&app).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["namespace_url"], "https://gitlab.com/acme-corp");
    assert_eq!(items[0]["namespace_path"], "acme-corp");
    assert_eq!(items[0]["partner_name"], "Acme Corp");
    assert_eq!(items[0]["verification_level"], "gitlab_partner_maintained");

    add_component(&ada, ns, "acme-corp/components/sast", "SAST scanner")
        .await
        .assert_redirect(&format!("/namespaces/{ns}"));
    submit(&ada, &fields("Acme Corp"), &[])
        .await
        .assert_redirect("/listing");
    approve_latest(&app, &staff, partner_id).await;

    let slug = slug_of(&app, partner_id).await;
    assert_eq!(items[0]["partner_slug"], slug.as_str());
    let page = app
        .get(&format!("/partners/{slug}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("https://gitlab.com/acme-corp"));
    assert!(page.contains("href=\"https://gitlab.com/acme-corp/components/sast\""));
    assert!(page.contains("SAST scanner"));
}
