//! The landing page.

use askama::Template;
use axum::{Router, routing::get};

use crate::{
    state::AppState,
    views::{Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(landing))
}

#[derive(Template)]
#[template(path = "landing.html")]
pub struct LandingPage {
    pub layout: Layout,
}

async fn landing() -> Page<LandingPage> {
    Page(LandingPage {
        layout: Layout::public("Alliance Partner Program", "home"),
    })
}
