//! GitLab as an OpenID provider, as GitLab documents it
//! (`doc/integration/openid_connect_provider.md`, `doc/api/oauth2.md`):
//! discovery at `/.well-known/openid-configuration`, its keys at
//! `/oauth/discovery/keys`, `/oauth/authorize` (authorization code with
//! PKCE), `/oauth/token`, and `/oauth/userinfo` with the owner-groups
//! claim. The ID tokens are RS256 JWTs signed here with an RSA key made in
//! the test process (one per process), so the portal's library checks a
//! signature made by someone else.
//!
//! Who is "signed in to GitLab" in the browser is the test's choice
//! ([`GitLabDouble::sign_in_as`]); the next ID token can be made wrong on
//! purpose ([`GitLabDouble::tamper_next`]).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Form, Json, Router,
    extract::{Query, State as Shared},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD};
use rsa::{
    RsaPrivateKey,
    pkcs1v15::SigningKey,
    signature::{SignatureEncoding, Signer},
    traits::PublicKeyParts,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::State;

/// The portal's OAuth application on this GitLab.
pub const OAUTH_CLIENT_ID: &str =
    "0b2c5ad1e7f04d5f9b0e1c3a5d7f9b1c3e5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e";
pub const OAUTH_CLIENT_SECRET: &str = "gloas-portal-application-secret";
/// The key id the JWKS publishes and ID tokens name.
const KEY_ID: &str = "double-rs256-1";

/// A GitLab user who can sign in through the double.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitLabUser {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// Full paths of the groups they own (top-level or not).
    pub owner_groups: Vec<String>,
}

impl GitLabUser {
    pub fn new(id: i64, username: &str, email: &str) -> Self {
        Self {
            id,
            username: username.to_owned(),
            name: format!(
                "{}{} Example",
                &username[..1].to_uppercase(),
                &username[1..]
            ),
            email: Some(email.to_owned()),
            email_verified: true,
            owner_groups: Vec::new(),
        }
    }

    pub fn owning(mut self, groups: &[&str]) -> Self {
        self.owner_groups = groups.iter().map(|g| (*g).to_owned()).collect();
        self
    }

    pub fn unverified(mut self) -> Self {
        self.email_verified = false;
        self
    }
}

/// What is wrong with the next ID token, on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// A nonce other than the one the portal sent.
    WrongNonce,
    /// Signed by a key that is not in the published JWKS.
    BadSignature,
    /// Expired a minute ago.
    Expired,
    /// Issued for another OAuth application.
    WrongAudience,
}

#[derive(Debug, Clone)]
struct Grant {
    user_id: i64,
    redirect_uri: String,
    code_challenge: String,
    nonce: Option<String>,
    used: bool,
}

/// The provider's side of the double's state.
#[derive(Default)]
pub struct Provider {
    pub issuer: String,
    pub users: HashMap<i64, GitLabUser>,
    /// The user signed in to GitLab in "the browser".
    pub signed_in: Option<i64>,
    grants: HashMap<String, Grant>,
    tokens: HashMap<String, i64>,
    tamper: Option<Tamper>,
    /// Token requests refused because the code was already used.
    pub replays_refused: usize,
    /// Seconds added to the real time in the tokens (a test that moves the
    /// portal's clock moves GitLab's too).
    pub time_offset: i64,
}

pub fn router() -> Router<Arc<Mutex<State>>> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oauth/discovery/keys", get(keys))
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/token", post(token))
        .route("/oauth/userinfo", get(userinfo))
}

/// The process's signing key (2048-bit RSA, made once).
fn key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("an RSA key"))
}

/// A key nobody published, for bad signatures.
fn stranger_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("an RSA key"))
}

fn now_secs(offset: i64) -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + offset
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// An RS256 JWT of `claims` signed with `key`.
fn sign(claims: &Value, key: &RsaPrivateKey) -> String {
    let header = json!({ "typ": "JWT", "kid": KEY_ID, "alg": "RS256" });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = SigningKey::<Sha256>::new(key.clone())
        .sign(input.as_bytes())
        .to_bytes();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

async fn discovery(Shared(state): Shared<Arc<Mutex<State>>>) -> Json<Value> {
    let issuer = state.lock().unwrap().oidc.issuer.clone();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
        "jwks_uri": format!("{issuer}/oauth/discovery/keys"),
        "scopes_supported": ["api", "read_api", "read_user", "openid", "profile", "email"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claim_types_supported": ["normal"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "sub_legacy", "name", "nickname",
            "preferred_username", "email", "email_verified", "website", "profile", "picture",
            "groups", "groups_direct", "https://gitlab.org/claims/groups/owner"],
        "code_challenge_methods_supported": ["plain", "S256"],
    }))
}

async fn keys() -> Json<Value> {
    let public = key().to_public_key();
    Json(json!({ "keys": [{
        "kty": "RSA",
        "kid": KEY_ID,
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "use": "sig",
        "alg": "RS256",
    }]}))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    state: Option<String>,
    nonce: Option<String>,
    scope: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// The person is signed in to GitLab and has authorised the application
/// before: GitLab redirects straight back with a code (or `access_denied`
/// when nobody is signed in, as if they cancelled).
async fn authorize(
    Shared(state): Shared<Arc<Mutex<State>>>,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    let mut s = state.lock().unwrap();
    let bad = q.client_id != OAUTH_CLIENT_ID
        || q.response_type != "code"
        || !q
            .scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .any(|s| s == "openid")
        || q.code_challenge_method.as_deref() != Some("S256")
        || q.code_challenge.is_none();
    if bad {
        return (
            StatusCode::BAD_REQUEST,
            "The client is not authorized or the request is invalid (double)",
        )
            .into_response();
    }
    let mut back = url::Url::parse(&q.redirect_uri).expect("an absolute redirect URI");
    {
        let mut pairs = back.query_pairs_mut();
        match s.oidc.signed_in {
            Some(user_id) => {
                let code = random_token();
                s.oidc.grants.insert(
                    code.clone(),
                    Grant {
                        user_id,
                        redirect_uri: q.redirect_uri.clone(),
                        code_challenge: q.code_challenge.clone().unwrap_or_default(),
                        nonce: q.nonce.clone(),
                        used: false,
                    },
                );
                pairs.append_pair("code", &code);
            }
            None => {
                pairs.append_pair("error", "access_denied");
                pairs.append_pair(
                    "error_description",
                    "The resource owner or authorization server denied the request.",
                );
            }
        }
        if let Some(st) = &q.state {
            pairs.append_pair("state", st);
        }
    }
    Redirect::to(back.as_str()).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// The client (HTTP Basic or in the form), the code once, the redirect URI
/// it was issued for, and the PKCE verifier are checked as GitLab
/// (Doorkeeper) does; then an access token and a signed ID token.
async fn token(
    Shared(state): Shared<Arc<Mutex<State>>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let (client_id, client_secret) = match basic_auth(&headers) {
        Some(pair) => pair,
        None => (
            form.client_id.clone().unwrap_or_default(),
            form.client_secret.clone().unwrap_or_default(),
        ),
    };
    if client_id != OAUTH_CLIENT_ID || client_secret != OAUTH_CLIENT_SECRET {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
        );
    }
    let invalid_grant = || {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
        )
    };
    if form.grant_type != "authorization_code" {
        return invalid_grant();
    }
    let mut s = state.lock().unwrap();
    let code = form.code.clone().unwrap_or_default();
    let Some(grant) = s.oidc.grants.get_mut(&code) else {
        return invalid_grant();
    };
    if grant.used {
        s.oidc.replays_refused += 1;
        return invalid_grant();
    }
    grant.used = true;
    let grant = grant.clone();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(
        form.code_verifier.as_deref().unwrap_or_default().as_bytes(),
    ));
    if form.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str())
        || challenge != grant.code_challenge
    {
        return invalid_grant();
    }
    let Some(user) = s.oidc.users.get(&grant.user_id).cloned() else {
        return invalid_grant();
    };
    let access_token = random_token();
    s.oidc.tokens.insert(access_token.clone(), user.id);
    let tamper = s.oidc.tamper.take();
    let issuer = s.oidc.issuer.clone();
    let now = now_secs(s.oidc.time_offset);
    drop(s);

    let (iat, exp) = match tamper {
        Some(Tamper::Expired) => (now - 180, now - 60),
        _ => (now, now + 120),
    };
    let mut claims = json!({
        "iss": issuer,
        "sub": user.id.to_string(),
        "aud": if tamper == Some(Tamper::WrongAudience) { "another-application" } else { OAUTH_CLIENT_ID },
        "exp": exp,
        "iat": iat,
        "auth_time": now - 30,
        "sub_legacy": hex::encode(Sha256::digest(format!("{}-legacy", user.id))),
        "groups_direct": user.owner_groups,
    });
    if let Some(nonce) = grant.nonce {
        claims["nonce"] = json!(if tamper == Some(Tamper::WrongNonce) {
            "not-the-nonce-you-sent".to_owned()
        } else {
            nonce
        });
    }
    if let Some(email) = &user.email {
        claims["email"] = json!(email);
        claims["email_verified"] = json!(user.email_verified);
    }
    let signer = if tamper == Some(Tamper::BadSignature) {
        stranger_key()
    } else {
        key()
    };
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 7200,
        "refresh_token": random_token(),
        "scope": "openid profile email",
        "created_at": now,
        "id_token": sign(&claims, signer),
    }))
    .into_response()
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// Userinfo for the bearer's user; the owner-groups claim only when they
/// own a group (GitLab leaves it out otherwise).
async fn userinfo(Shared(state): Shared<Arc<Mutex<State>>>, headers: HeaderMap) -> Response {
    let s = state.lock().unwrap();
    let user = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| s.oidc.tokens.get(t))
        .and_then(|id| s.oidc.users.get(id));
    let Some(user) = user else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            Json(json!({ "error": "invalid_token" })),
        )
            .into_response();
    };
    let issuer = &s.oidc.issuer;
    let mut info = json!({
        "sub": user.id.to_string(),
        "sub_legacy": hex::encode(Sha256::digest(format!("{}-legacy", user.id))),
        "name": user.name,
        "nickname": user.username,
        "preferred_username": user.username,
        "website": "",
        "profile": format!("{issuer}/{}", user.username),
        "picture": format!("{issuer}/uploads/-/system/user/avatar/{}/avatar.png", user.id),
        "groups": user.owner_groups,
    });
    if let Some(email) = &user.email {
        info["email"] = json!(email);
        info["email_verified"] = json!(user.email_verified);
    }
    if !user.owner_groups.is_empty() {
        info["https://gitlab.org/claims/groups/owner"] = json!(user.owner_groups);
    }
    Json(info).into_response()
}

impl super::GitLabDouble {
    /// Registers a GitLab user (or replaces them: a change of groups).
    pub fn add_user(&self, user: &GitLabUser) {
        self.state
            .lock()
            .unwrap()
            .oidc
            .users
            .insert(user.id, user.clone());
    }

    /// The person at "the browser" is signed in to GitLab as `user`
    /// (registered too); `None`: nobody, so authorising is denied.
    pub fn sign_in_as(&self, user: Option<&GitLabUser>) {
        if let Some(user) = user {
            self.add_user(user);
        }
        self.state.lock().unwrap().oidc.signed_in = user.map(|u| u.id);
    }

    /// The next ID token is wrong in this way.
    pub fn tamper_next(&self, tamper: Tamper) {
        self.state.lock().unwrap().oidc.tamper = Some(tamper);
    }

    /// GitLab's clock moves forward with the portal's.
    pub fn advance(&self, seconds: i64) {
        self.state.lock().unwrap().oidc.time_offset += seconds;
    }

    pub fn replays_refused(&self) -> usize {
        self.state.lock().unwrap().oidc.replays_refused
    }
}
