//! The dashboard's pages: plain functions from the posture model (and, for an
//! application's findings and for searches, the index) and the viewer to HTML. Every value
//! goes through an askama template, which HTML-escapes it; only the SVG charts, built from
//! numbers in [`super::chart`], are inserted as markup.
//!
//! One module per page family: [`overview`] (the landing page), [`app`] (an application's
//! findings, violations and images) and [`lists`] (search, policies, exceptions, artifacts
//! that run nowhere, messages).

use jiff::Timestamp;

use super::access::Viewer;

mod app;
mod lists;
mod overview;

pub use app::*;
pub use lists::*;
pub use overview::*;

/// Rows per page of every paginated list.
pub const PAGE_SIZE: usize = 50;
/// Exceptions expiring within this many days are shown on the overview.
pub const EXPIRING_DAYS: i64 = 14;
/// Images whose last scan is older than this many days are shown as stale.
pub const STALE_SCAN_DAYS: i64 = 7;
/// Components listed per image on the application page.
pub(super) const COMPONENTS_SHOWN: usize = 200;

/// What every page shows around its content.
pub struct Chrome {
    pub title: String,
    pub user: Option<String>,
    /// `all namespaces` or `N namespaces`.
    pub scope: String,
    pub query: String,
    pub now: String,
}

impl Chrome {
    pub fn new(title: &str, user: Option<&str>, viewer: &Viewer, now: Timestamp) -> Chrome {
        let scope = match viewer {
            Viewer::All => "all namespaces".to_string(),
            Viewer::Namespaces(s) => format!("{} namespaces", s.len()),
        };
        Chrome {
            title: title.into(),
            user: user.map(str::to_string),
            scope,
            query: String::new(),
            now: now.to_string(),
        }
    }
}

/// Percent-encodes a path segment or query value (everything but RFC 3986 unreserved).
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The page of an application: `/apps/ns/name` or `/inferred/ns/name`.
pub fn app_href(namespace: &str, name: &str, inferred: bool) -> String {
    format!("/{}/{}/{}", if inferred { "inferred" } else { "apps" }, enc(namespace), enc(name))
}

/// A page position (1-based) and the links around it.
pub struct Pager {
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// Pages `total` rows; `link(n)` is the URL of page `n`.
    pub fn new(page: usize, total: usize, link: impl Fn(usize) -> String) -> Pager {
        let pages = total.div_ceil(PAGE_SIZE).max(1);
        let page = page.clamp(1, pages);
        Pager {
            page,
            pages,
            total,
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }

    pub(super) fn range(&self) -> std::ops::Range<usize> {
        let start = (self.page - 1) * PAGE_SIZE;
        start..(start + PAGE_SIZE).min(self.total)
    }
}
