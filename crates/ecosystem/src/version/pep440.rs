//! PEP 440 versions through the `pep440_rs` crate (normalisation, epochs, pre/post/dev
//! releases and local versions are its; <https://peps.python.org/pep-0440/>).

use std::str::FromStr;

pub(super) fn parse(text: &str) -> Result<pep440_rs::Version, String> {
    pep440_rs::Version::from_str(text).map_err(|e| e.to_string())
}
