//! Passwords for the web pages, kept as Argon2id (RFC 9106) with the parameters OWASP
//! recommends as a minimum (19 MiB, two passes, one lane): memory-hard, so a stolen
//! database cannot be guessed at GPU speed. Hashing is deliberate work — tens of
//! milliseconds and 19 MiB each — so it runs off the async threads, two at a time at most,
//! and a flood of sign-ins queues rather than exhausting memory.

use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// A password someone chose, checked before it is hashed.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(****)")
    }
}

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    /// At least eight characters, of at least two kinds (letters, digits, others): the
    /// national baseline for government systems (GB/T 22239 等保 asks for complexity)
    /// without rules so strict that people write the password on the screen's edge.
    pub fn parse(raw: &str) -> AppResult<Password> {
        let chars = raw.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(AppError::BadUserInput(format!(
                "密码长度应为{}至{}个字符",
                Self::MIN_CHARS,
                Self::MAX_CHARS
            )));
        }
        let letters = raw.chars().any(char::is_alphabetic);
        let digits = raw.chars().any(|c| c.is_ascii_digit());
        let others = raw.chars().any(|c| !c.is_alphanumeric());
        if [letters, digits, others].into_iter().filter(|k| *k).count() < 2 {
            return Err(AppError::BadUserInput(
                "密码须包含字母、数字、符号中的至少两类".into(),
            ));
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A password to hand over once (the first administrator's, the demo's): three groups
    /// of four from letters and digits that cannot be mistaken for one another.
    pub fn generate() -> AppResult<Password> {
        const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
        loop {
            let mut bytes = [0u8; 12];
            getrandom::fill(&mut bytes).map_err(internal)?;
            let chars: Vec<char> = bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
                .collect();
            let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
            if let Ok(password) = Password::parse(&groups.join("-"))
                && password.0.chars().any(|c| c.is_ascii_digit())
            {
                return Ok(password);
            }
        }
    }
}

/// Two hashes at a time: each holds 19 MiB while it runs.
static HASHING: Semaphore = Semaphore::const_new(2);

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("password hashing: {e}"))
}

async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let _permit = HASHING.acquire().await.map_err(internal)?;
    tokio::task::spawn_blocking(work).await.map_err(internal)
}

/// The PHC string of `password` with a fresh random salt.
pub async fn hash(password: &Password) -> AppResult<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(internal)?;
    let password = password.0.clone();
    off_thread(move || {
        let salt = SaltString::encode_b64(&salt).map_err(internal)?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(internal)
    })
    .await?
}

/// Whether `candidate` is the password behind `stored`. With nothing stored (no such
/// account, or one without a password) the same work is done against a hash nobody knows,
/// so the answer's timing does not tell which accounts exist.
pub async fn verify(stored: Option<String>, candidate: &str) -> AppResult<bool> {
    let candidate = candidate.to_string();
    off_thread(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| UNKNOWABLE.to_string());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            tracing::error!("a stored password hash is not in PHC form");
            return false;
        };
        known
            && Argon2::default()
                .verify_password(candidate.as_bytes(), &parsed)
                .is_ok()
    })
    .await
}

/// A hash of a random password thrown away, with the same parameters as real ones.
const UNKNOWABLE: &str = "$argon2id$v=19$m=19456,t=2,p=1$M0VqZ1pXbHVhM2xtYUE$R2pJ5wPQ4h8b3lqv0pJm8Kq3j4lU1Jd5m4R3Sx8wYtE";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        assert!(Password::parse("short1").is_err());
        assert!(Password::parse("onlyletters").is_err());
        assert!(Password::parse("12345678901").is_err());
        assert!(Password::parse("督查督办工作很重要").is_err());
        assert!(Password::parse("督查督办2026").is_ok());
        assert!(Password::parse("letters-and-signs").is_ok());
        assert!(!format!("{:?}", Password::parse("secret-123").expect("ok")).contains("secret"));
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_is_salted() {
        let password = Password::parse("correct-horse-9").expect("valid");
        let first = hash(&password).await.expect("hash");
        let second = hash(&password).await.expect("hash");
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        assert_ne!(first, second, "each hash has its own salt");
        assert!(
            verify(Some(first.clone()), "correct-horse-9")
                .await
                .expect("verify")
        );
        assert!(
            !verify(Some(first), "correct-horse-8")
                .await
                .expect("verify")
        );
        assert!(!verify(None, "correct-horse-9").await.expect("verify"));
        assert!(
            PasswordHash::new(UNKNOWABLE).is_ok(),
            "the stand-in hash parses"
        );
    }
}
