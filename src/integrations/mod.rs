//! A partner's integrations with its own tools and its GitLab group, on
//! `/integrations`: the secret of the webhook it installs on its group
//! (§6), and the partner API's tokens and outbound webhooks (§10).

pub mod endpoint_routes;
pub mod routes;
pub mod tokens;
pub mod webhook_secret;
pub mod webhooks;
