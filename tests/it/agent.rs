//! A client that behaves like a person's browser: keeps cookies, remembers
//! the CSRF token of the last page it loaded and sends it with forms.

use std::sync::{Arc, Mutex};

use reqwest::{Response, StatusCode, cookie::CookieStore, header};

pub struct Agent {
    pub base: String,
    pub client: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    csrf: Mutex<Option<String>>,
}

/// A response, read once: status, location and body.
#[allow(dead_code)] // tests read the parts they need
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub headers: header::HeaderMap,
}

impl Page {
    async fn read(res: Response) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let location = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = res.text().await.unwrap_or_default();
        Self {
            status,
            location,
            body,
            headers,
        }
    }

    #[track_caller]
    pub fn assert_redirect(&self, to: &str) {
        assert_eq!(
            self.status,
            StatusCode::SEE_OTHER,
            "expected a redirect to {to}: {}",
            self.snippet()
        );
        assert_eq!(self.location.as_deref(), Some(to));
    }

    pub fn snippet(&self) -> String {
        self.body.chars().take(3000).collect()
    }
}

pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf_token\" value=\"")?;
    let rest = &html[at + "name=\"csrf_token\" value=\"".len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

impl Agent {
    pub fn new(base: &str) -> Self {
        Self::with_headers(base, &[])
    }

    /// An agent whose every request carries `headers` (as a reverse proxy
    /// in front of the portal adds `X-Forwarded-For`).
    pub fn with_headers(base: &str, headers: &[(&str, &str)]) -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let mut defaults = header::HeaderMap::new();
        for (name, value) in headers {
            defaults.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                header::HeaderValue::from_str(value).unwrap(),
            );
        }
        let client = reqwest::Client::builder()
            .default_headers(defaults)
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            base: base.to_owned(),
            client,
            jar,
            csrf: Mutex::new(None),
        }
    }

    /// The same person (cookies, CSRF token) talking to another instance.
    pub fn on(&self, base: &str) -> Self {
        Self {
            base: base.to_owned(),
            client: self.client.clone(),
            jar: self.jar.clone(),
            csrf: Mutex::new(self.csrf.lock().unwrap().clone()),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Page {
        let page = Page::read(self.client.get(self.url(path)).send().await.unwrap()).await;
        if let Some(token) = csrf_in(&page.body) {
            *self.csrf.lock().unwrap() = Some(token);
        }
        page
    }

    /// Posts a form with the CSRF token of the last page loaded.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf.lock().unwrap().clone().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let page = Page::read(
            self.client
                .post(self.url(path))
                .form(fields)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if let Some(token) = csrf_in(&page.body) {
            *self.csrf.lock().unwrap() = Some(token);
        }
        page
    }

    /// Posts a `multipart/form-data` form, as a browser sends a form with a
    /// file input, with the CSRF token of the last page loaded. Files are
    /// `(field, file name, content type, bytes)`.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, Vec<u8>)],
    ) -> Page {
        let token = self.csrf.lock().unwrap().clone().unwrap_or_default();
        let boundary = format!("----portal-test-{}", uuid::Uuid::new_v4().simple());
        let mut body: Vec<u8> = Vec::new();
        let mut text = |name: &str, value: &str| {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        };
        text("csrf_token", &token);
        for (name, value) in fields {
            text(name, value);
        }
        for (name, file_name, content_type, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let page = Page::read(
            self.client
                .post(self.url(path))
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if let Some(token) = csrf_in(&page.body) {
            *self.csrf.lock().unwrap() = Some(token);
        }
        page
    }

    /// A GET with extra request headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut req = self.client.get(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Page::read(req.send().await.unwrap()).await
    }

    /// The raw bytes of a GET (images).
    pub async fn get_bytes(&self, path: &str) -> (StatusCode, header::HeaderMap, Vec<u8>) {
        let res = self.client.get(self.url(path)).send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        (status, headers, res.bytes().await.unwrap().to_vec())
    }

    /// The value of a cookie this agent holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = self.base.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }
}
