//! `--history URL`: `sqlite:PATH` (a file, created when missing) or `postgres://…`.

use std::fmt;
use std::str::FromStr;

use super::Error;

/// Which database a URL names.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres` (the migrations folder's name).
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A history store location.
///
/// - `sqlite:PATH`, `sqlite://PATH` — a SQLite file (relative paths from the working
///   directory); created with its folder's permissions when missing.
/// - `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=require…]` (also
///   `postgresql://`) — libpq's URL form, as sqlx reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct HistoryUrl {
    backend: Backend,
    /// The URL sqlx connects with.
    connect: String,
}

impl HistoryUrl {
    /// The database kind.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL handed to sqlx (with the password, when there is one).
    pub(crate) fn connect_url(&self) -> &str {
        &self.connect
    }
}

impl FromStr for HistoryUrl {
    type Err = Error;

    fn from_str(s: &str) -> Result<HistoryUrl, Error> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let (path, query) = path.split_once('?').unwrap_or((path, ""));
            if path.is_empty() || path == ":memory:" {
                return Err(Error::Url(s.to_string()));
            }
            // Created when missing; extra parameters (`?mode=ro`) are the user's to add.
            let query = if query.is_empty() { "mode=rwc".to_string() } else { query.to_string() };
            return Ok(HistoryUrl { backend: Backend::Sqlite, connect: format!("sqlite://{path}?{query}") });
        }
        if (s.starts_with("postgres://") || s.starts_with("postgresql://")) && s.len() > "postgres://".len() {
            return Ok(HistoryUrl { backend: Backend::Postgres, connect: s.to_string() });
        }
        Err(Error::Url(s.to_string()))
    }
}

/// The URL with any password replaced by `***` (for logs and messages).
impl fmt::Display for HistoryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.backend {
            Backend::Sqlite => {
                let path = self.connect.trim_start_matches("sqlite://");
                write!(f, "sqlite:{}", path.split_once('?').map_or(path, |(p, _)| p))
            }
            Backend::Postgres => {
                let (scheme, rest) = self.connect.split_once("://").unwrap_or(("postgres", &self.connect));
                match rest.split_once('@') {
                    Some((user, host)) => {
                        let user = user.split_once(':').map_or(user, |(u, _)| u);
                        if user.len() < rest.split_once('@').map_or(0, |(u, _)| u.len()) {
                            write!(f, "{scheme}://{user}:***@{host}")
                        } else {
                            write!(f, "{scheme}://{user}@{host}")
                        }
                    }
                    None => write!(f, "{scheme}://{rest}"),
                }
            }
        }
    }
}

impl fmt::Debug for HistoryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HistoryUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_redaction() {
        let u: HistoryUrl = "sqlite:/var/lib/stance/history.db".parse().unwrap();
        assert_eq!((u.backend(), u.connect_url()), (Backend::Sqlite, "sqlite:///var/lib/stance/history.db?mode=rwc"));
        assert_eq!(u.to_string(), "sqlite:/var/lib/stance/history.db");
        let u: HistoryUrl = "sqlite:rel/h.db".parse().unwrap();
        assert_eq!(u.connect_url(), "sqlite://rel/h.db?mode=rwc");
        let u: HistoryUrl = "postgres://stance:s3cret@db:5432/stance?sslmode=require".parse().unwrap();
        assert_eq!(u.backend(), Backend::Postgres);
        assert_eq!(u.to_string(), "postgres://stance:***@db:5432/stance?sslmode=require");
        assert!(!format!("{u:?}").contains("s3cret"));
        let u: HistoryUrl = "postgresql://stance@db/stance".parse().unwrap();
        assert_eq!(u.to_string(), "postgresql://stance@db/stance");
        for bad in ["", "sqlite:", "sqlite::memory:", "mysql://x/y", "/tmp/h.db", "postgres://"] {
            let e = bad.parse::<HistoryUrl>().unwrap_err().to_string();
            assert!(e.contains("sqlite:PATH") && e.contains("postgres://"), "{bad}: {e}");
        }
    }
}
