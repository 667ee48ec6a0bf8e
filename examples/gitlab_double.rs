//! The suite's GitLab double (`tests/it/gitlab/`) as a process of its own,
//! for `scripts/bench`: the portal reaches it through `PORTAL_GITLAB_URL`
//! exactly as in the tests.
//!
//! `cargo run --release --example gitlab_double -- PORT CONTROL_PORT`
//! serves GitLab on 127.0.0.1:PORT and, on 127.0.0.1:CONTROL_PORT,
//! `POST /hang` (every note call hangs from now on), `POST /answer`
//! (answered again), `GET /notes` (how many notes it holds) and
//! `GET /notes/all` (each note: project, issue, author and body).

#[path = "../tests/it/gitlab/mod.rs"]
mod gitlab;

use std::{collections::VecDeque, sync::Arc};

use axum::{
    Router,
    extract::State,
    routing::{get, post},
};
use gitlab::{Answer, GitLabDouble, Kind};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let control: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let double = Arc::new(GitLabDouble::start_on(([127, 0, 0, 1], port).into()).await);
    let app = Router::new()
        .route(
            "/hang",
            post(|State(d): State<Arc<GitLabDouble>>| async move {
                d.state.lock().unwrap().scripts.insert(
                    Kind::CreateNote,
                    VecDeque::from(vec![Answer::Hang; 1_000_000]),
                );
                "hanging"
            }),
        )
        .route(
            "/answer",
            post(|State(d): State<Arc<GitLabDouble>>| async move {
                d.state.lock().unwrap().scripts.clear();
                "answering"
            }),
        )
        .route(
            "/notes",
            get(
                |State(d): State<Arc<GitLabDouble>>| async move { d.all_notes().len().to_string() },
            ),
        )
        .route(
            "/notes/all",
            get(|State(d): State<Arc<GitLabDouble>>| async move {
                let state = d.state.lock().unwrap();
                let mut lines: Vec<String> = state
                    .notes
                    .iter()
                    .flat_map(|((project, iid), notes)| {
                        notes.iter().map(move |n| {
                            format!(
                                "{project}#{iid} note {} by {}: {}\n",
                                n.id, n.author, n.body
                            )
                        })
                    })
                    .collect();
                lines.sort();
                lines.concat()
            }),
        )
        .with_state(double.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", control))
        .await
        .expect("the control port binds");
    println!(
        "gitlab double on {} (control on {})",
        double.url,
        listener.local_addr().unwrap()
    );
    axum::serve(listener, app).await.unwrap();
}
