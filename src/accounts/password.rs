//! Passwords: the policy for new ones, and argon2id hashing on threads of
//! its own, fewer than the cores and at a lower priority, so a burst of
//! sign-ins cannot starve the threads that render pages.

use std::sync::{Arc, Mutex, OnceLock, mpsc};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
    password_hash::SaltString,
};
use secrecy::{ExposeSecret, SecretString};

pub const MIN_CHARS: usize = 12;

/// The stored "hash" of an account without a password (a staff member
/// invited but not started, a partner user who signed up with GitLab): it
/// matches no password.
pub const NO_PASSWORD: &str = "!";
pub const MAX_CHARS: usize = 128;

/// A password that meets the policy, ready to hash.
#[derive(Debug)]
pub struct NewPassword(SecretString);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error(
        "Use at least 12 characters. A few unrelated words make a strong password that is easy to remember."
    )]
    TooShort,
    #[error("Use at most 128 characters.")]
    TooLong,
    #[error("This password is too easy to guess{hint}. Try a longer phrase of unrelated words.")]
    Guessable { hint: String },
}

impl NewPassword {
    /// Checks length (in characters, any Unicode) and guessability; the
    /// person's own name and address count as guessable.
    pub fn parse(password: &str, personal: &[&str]) -> Result<Self, PasswordProblem> {
        let chars = password.chars().count();
        if chars < MIN_CHARS {
            return Err(PasswordProblem::TooShort);
        }
        if chars > MAX_CHARS {
            return Err(PasswordProblem::TooLong);
        }
        let entropy = zxcvbn::zxcvbn(password, personal);
        if u8::from(entropy.score()) < 3 {
            let hint = entropy
                .feedback()
                .and_then(|f| f.warning())
                .map(|w| format!(" ({})", w.to_string().trim_end_matches('.').to_lowercase()))
                .unwrap_or_default();
            return Err(PasswordProblem::Guessable { hint });
        }
        Ok(Self(SecretString::from(password.to_owned())))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// Hashes and verifies passwords without blocking the async runtime.
#[derive(Clone, Default)]
pub struct Passwords {}

impl Passwords {
    pub fn new() -> Self {
        Self {}
    }

    pub async fn hash(&self, password: &NewPassword) -> Result<String, String> {
        let password = password.0.clone();
        self.blocking(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            hasher()
                .hash_password(password.expose_secret().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| e.to_string())
        })
        .await
    }

    /// True when `password` matches `stored`. With no stored hash (unknown
    /// account) the same work is done against a dummy hash, so the answer
    /// takes as long as for a wrong password.
    pub async fn verify(&self, password: SecretString, stored: Option<String>) -> bool {
        self.blocking(move || {
            let known = stored.is_some();
            let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return false;
            };
            let ok = hasher()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok();
            known && ok
        })
        .await
    }

    async fn blocking<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> T {
        let (done, result) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        hashing_threads()
            .send(Box::new(move || {
                let _ = done.send(span.in_scope(work));
            }))
            .expect("the hashing threads run as long as the process");
        result.await.expect("password hashing does not panic")
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The queue of the process's hashing threads, started on first use.
///
/// Each hash takes one core for tens of milliseconds and 19 MiB. There is
/// one thread fewer than cores, so one core is always left to everything
/// else (measured: with every core hashing, the landing page lost 57 % of
/// its throughput), and they run at a lower priority, so pages are served
/// first when the machine is busy and sign-ins take the time left over.
/// Fixed threads also bound the memory: hashing on tokio's blocking pool
/// spread the 19 MiB blocks over as many threads' allocator arenas, and the
/// portal grew from 70 to 257 MiB under a sign-in flood.
fn hashing_threads() -> &'static mpsc::Sender<Job> {
    static QUEUE: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        for n in 0..cores.saturating_sub(1).max(1) {
            let jobs = Arc::clone(&jobs);
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok(job) = job else { return };
                        // A panic drops the job's reply (its caller fails);
                        // the thread goes on with the next one.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
                .expect("a thread for password hashing");
        }
        queue
    })
}

/// Nice 5 on Linux: the scheduler gives this thread about a third of the
/// share of a page-serving thread when both want the CPU, all of a core
/// when pages do not.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: sets the scheduling priority of the calling thread (by its own
    // thread id); no memory is read or written.
    unsafe {
        let _ = libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 5);
    }
}

/// argon2id with OWASP's minimum: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters"),
    )
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        hasher()
            .hash_password(b"not a real password, only for timing", &salt)
            .expect("hashing a constant works")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashing happens on the dedicated threads, one fewer than the cores,
    /// at nice 5; never on the runtime's threads.
    #[tokio::test]
    async fn hashing_runs_on_its_own_lower_priority_threads() {
        let passwords = Passwords::new();
        let seen: Vec<(String, i32)> = futures_util::future::join_all((0..8).map(|_| {
            passwords.blocking(|| {
                let name = std::thread::current().name().unwrap_or_default().to_owned();
                // SAFETY: reads the calling thread's own priority.
                let nice =
                    unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
                (name, nice)
            })
        }))
        .await;
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let mut threads: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
        threads.sort_unstable();
        threads.dedup();
        assert!(
            threads.iter().all(|n| n.starts_with("argon2-")),
            "{threads:?}"
        );
        assert!(
            threads.len() <= cores.saturating_sub(1).max(1),
            "{threads:?}"
        );
        assert!(seen.iter().all(|(_, nice)| *nice == 5), "{seen:?}");
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(
            NewPassword::parse("short", &[]).unwrap_err(),
            PasswordProblem::TooShort
        );
        // 12 characters, more than 12 bytes.
        assert!(NewPassword::parse("ĉevalo-ŝranko-ĵaŭdo", &[]).is_ok());
        assert_eq!(
            NewPassword::parse(&"x".repeat(129), &[]).unwrap_err(),
            PasswordProblem::TooLong
        );
    }

    #[test]
    fn common_and_personal_passwords_are_refused() {
        for weak in ["password1234", "qwertyuiop123", "123456789012"] {
            assert!(
                matches!(
                    NewPassword::parse(weak, &[]),
                    Err(PasswordProblem::Guessable { .. })
                ),
                "{weak}"
            );
        }
        assert!(matches!(
            NewPassword::parse("ada.lovelace@example.com", &["ada.lovelace@example.com"]),
            Err(PasswordProblem::Guessable { .. })
        ));
        assert!(NewPassword::parse("copper kettle jazz orbit", &[]).is_ok());
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let passwords = Passwords::new();
        let pw = NewPassword::parse("copper kettle jazz orbit", &[]).unwrap();
        let hash = passwords.hash(&pw).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            passwords
                .verify(
                    SecretString::from("copper kettle jazz orbit"),
                    Some(hash.clone())
                )
                .await
        );
        assert!(
            !passwords
                .verify(SecretString::from("copper kettle jazz orbiT"), Some(hash))
                .await
        );
        assert!(
            !passwords
                .verify(
                    SecretString::from("not a real password, only for timing"),
                    None
                )
                .await
        );
    }
}
