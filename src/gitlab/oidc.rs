//! "Sign in with GitLab": OpenID Connect against `PORTAL_GITLAB_URL`
//! (GitLab's `doc/integration/openid_connect_provider.md`). The
//! `openidconnect` crate does the protocol: discovery of the provider's
//! endpoints and keys (`/.well-known/openid-configuration`), the
//! authorization code flow with PKCE (S256), `state` and `nonce`, the ID
//! token's signature and claims (issuer, audience, expiry, nonce) checked
//! against the keys GitLab publishes, and userinfo for the same subject.
//! Every call goes through the portal's one HTTP client ([`GitLab::http`]).
//!
//! What GitLab tells about the person is read here and handed on in the
//! portal's words ([`GitLabPerson`]): who they are, their address and
//! whether GitLab verified it, and the top-level groups they own, from the
//! userinfo claim `https://gitlab.org/claims/groups/owner` (GitLab's
//! `config/initializers/doorkeeper_openid_connect.rb`: the full paths of
//! `user.owned_groups`, under the `openid` scope, userinfo only). Nothing
//! of the OAuth tokens leaves this module.

use chrono::{DateTime, Utc};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse,
    UserInfoClaims,
    core::{
        CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdTokenClaims,
        CoreProviderMetadata,
    },
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::GitLab;

/// The scopes asked for: who the person is (`openid`, which also carries
/// their group memberships), their name and username (`profile`) and their
/// primary address (`email`). Nothing that reaches the API.
const SCOPES: [&str; 2] = ["profile", "email"];

/// The userinfo claim listing the groups the person owns (full paths).
pub const OWNER_GROUPS_CLAIM: &str = "https://gitlab.org/claims/groups/owner";

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Where to send the browser, and what the callback must find again.
#[derive(Debug)]
pub struct Authorization {
    pub url: url::Url,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// A GitLab user as a finished sign-in proved them to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitLabPerson {
    /// GitLab's user id (the `sub` claim).
    pub id: i64,
    pub username: String,
    pub name: String,
    /// Their primary address, when GitLab shares one.
    pub email: Option<String>,
    /// GitLab says it verified `email`.
    pub email_verified: bool,
    /// Top-level groups they own on GitLab, lowercased (paths are
    /// case-insensitive there).
    pub owner_groups: Vec<String>,
}

/// Why a sign-in with GitLab did not give a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// No OAuth application configured: the feature is off.
    #[error("sign-in with GitLab is not configured")]
    NotConfigured,
    /// GitLab could not be reached, or answered with a server error.
    #[error("GitLab could not be reached: {0}")]
    Unreachable(String),
    /// GitLab's answer was refused: a bad or replayed code, an ID token that
    /// does not check out. The text says which check failed.
    #[error("{0}")]
    Refused(String),
}

/// The extra claims GitLab's userinfo carries that the portal reads.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct GitLabUserInfo {
    #[serde(rename = "https://gitlab.org/claims/groups/owner", default)]
    owner_groups: Option<Vec<String>>,
}

impl AdditionalClaims for GitLabUserInfo {}

impl GitLab {
    /// The issuer: the instance's URL without a trailing slash, as GitLab
    /// sets it (`Gitlab.config.gitlab.url`).
    fn issuer(&self) -> Result<IssuerUrl, OidcError> {
        IssuerUrl::new(self.config.endpoint(""))
            .map_err(|e| OidcError::Refused(format!("PORTAL_GITLAB_URL is not an issuer: {e}")))
    }

    /// Discovers the provider (endpoints and signing keys) and builds the
    /// client that returns to `redirect_uri`. Asked afresh at each step of
    /// a sign-in, so a key GitLab rotates in is never missed.
    async fn client(&self, redirect_uri: &str) -> Result<Client, OidcError> {
        let oauth = self.config.oauth.as_ref().ok_or(OidcError::NotConfigured)?;
        let metadata = CoreProviderMetadata::discover_async(self.issuer()?, self.http())
            .await
            .map_err(|e| OidcError::Unreachable(format!("discovery failed: {}", chain(&e))))?;
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| OidcError::Refused(format!("bad callback URL: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(oauth.client_id.clone()),
            Some(ClientSecret::new(
                oauth.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(redirect))
    }

    /// The authorize URL to send a browser to, with a fresh `state`, nonce
    /// and PKCE challenge (S256).
    pub async fn authorization(&self, redirect_uri: &str) -> Result<Authorization, OidcError> {
        let client = self.client(redirect_uri).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in SCOPES {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Authorization {
            url,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code GitLab sent back (with the PKCE verifier), checks
    /// the ID token (signature by GitLab's published keys, issuer, audience
    /// = this client, expiry against `now`, the nonce of this sign-in, the
    /// access token hash when present) and reads userinfo for the same
    /// subject.
    pub async fn finish_sign_in(
        &self,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<GitLabPerson, OidcError> {
        let client = self.client(redirect_uri).await?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Refused(format!("GitLab has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(self.http())
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(answer) => OidcError::Refused(format!(
                    "GitLab refused the sign-in code ({})",
                    answer.error()
                )),
                RequestTokenError::Request(e) => OidcError::Unreachable(chain(&e)),
                other => OidcError::Refused(format!(
                    "GitLab's token answer could not be read ({})",
                    chain(&other)
                )),
            })?;
        let id_token = token
            .id_token()
            .ok_or_else(|| OidcError::Refused("GitLab sent no ID token".into()))?;
        let verifier = client.id_token_verifier().set_time_fn(move || now);
        let claims: &CoreIdTokenClaims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_owned()))
            .map_err(|e| OidcError::Refused(format!("the ID token was refused: {e}")))?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token
                .signing_alg()
                .and_then(|alg| {
                    id_token
                        .signing_key(&verifier)
                        .map(|key| (alg.clone(), key.clone()))
                })
                .map_err(|e| OidcError::Refused(format!("the ID token was refused: {e}")))?;
            let actual = AccessTokenHash::from_token(token.access_token(), &alg.0, &alg.1)
                .map_err(|e| OidcError::Refused(format!("the ID token was refused: {e}")))?;
            if actual != *expected {
                return Err(OidcError::Refused(
                    "the ID token was refused: it was issued with another access token".into(),
                ));
            }
        }
        let subject = claims.subject().clone();
        let id: i64 = subject.as_str().parse().map_err(|_| {
            OidcError::Refused(format!(
                "GitLab's user id {:?} is not a number",
                subject.as_str()
            ))
        })?;
        let info: UserInfoClaims<GitLabUserInfo, CoreGenderClaim> = client
            .user_info(token.access_token().to_owned(), Some(subject))
            .map_err(|e| OidcError::Refused(format!("GitLab has no userinfo endpoint: {e}")))?
            .request_async(self.http())
            .await
            .map_err(|e| match e {
                openidconnect::UserInfoError::Request(e) => OidcError::Unreachable(chain(&e)),
                other => OidcError::Refused(format!("GitLab's userinfo was refused: {other}")),
            })?;
        let username = info
            .preferred_username()
            .map(|u| u.as_str().to_owned())
            .or_else(|| {
                info.nickname()
                    .and_then(|n| n.get(None))
                    .map(|n| n.as_str().to_owned())
            })
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| OidcError::Refused("GitLab did not tell the username".into()))?;
        let name = info
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().trim().to_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| username.clone());
        // The ID token is signed; its address wins over userinfo's.
        let email = claims
            .email()
            .or(info.email())
            .map(|e| e.as_str().trim().to_owned())
            .filter(|e| !e.is_empty());
        let email_verified = email.is_some()
            && claims
                .email_verified()
                .or(info.email_verified())
                .unwrap_or(false);
        Ok(GitLabPerson {
            id,
            username,
            name,
            email,
            email_verified,
            owner_groups: top_level(info.additional_claims().owner_groups.as_deref()),
        })
    }
}

/// The top-level groups among full group paths, lowercased, each once.
fn top_level(paths: Option<&[String]>) -> Vec<String> {
    let mut groups: Vec<String> = paths
        .unwrap_or_default()
        .iter()
        .map(|p| p.trim().trim_matches('/').to_lowercase())
        .filter(|p| !p.is_empty() && !p.contains('/'))
        .collect();
    groups.sort();
    groups.dedup();
    groups
}

/// An error with its causes, for the logs and the refusal's reason.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_top_level_groups_count_lowercased_once() {
        let paths = [
            "Acme-Corp".to_owned(),
            "acme-corp/integrations".to_owned(),
            "acme-corp".to_owned(),
            " tools ".to_owned(),
            "".to_owned(),
        ];
        assert_eq!(top_level(Some(&paths)), ["acme-corp", "tools"]);
        assert!(top_level(None).is_empty());
    }

    #[test]
    fn userinfo_reads_the_owner_groups_claim_by_its_uri() {
        let info: GitLabUserInfo = serde_json::from_value(serde_json::json!({
            "sub": "1",
            OWNER_GROUPS_CLAIM: ["acme-corp", "acme-corp/sub"],
        }))
        .unwrap();
        assert_eq!(
            info.owner_groups.as_deref(),
            Some(&["acme-corp".to_owned(), "acme-corp/sub".to_owned()][..])
        );
        // GitLab leaves the claim out when the person owns no group.
        let none: GitLabUserInfo = serde_json::from_value(serde_json::json!({"sub": "1"})).unwrap();
        assert!(none.owner_groups.is_none());
    }
}
