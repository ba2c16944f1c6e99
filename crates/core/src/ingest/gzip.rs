//! Gzip inflation with a size cap: the one place Stance inflates anything (files, ConfigMap
//! values, CI uploads), so every path has the same limit and none keeps a truncated
//! result. The cap is the object's decompression budget (`budget::Limits`).

use std::io::Read;

/// True when the bytes start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Why gzip content could not be inflated.
#[derive(Debug, thiserror::Error)]
pub enum InflateError {
    /// More than the cap: refused whole, never cut short.
    #[error("gzip content is larger than {} MiB", limit >> 20)]
    TooLarge { limit: u64 },
    #[error("not valid gzip: {0}")]
    Invalid(#[from] std::io::Error),
}

/// Inflates a gzip stream of at most `limit` decompressed bytes. Streaming: at most
/// `limit + 1` bytes are ever produced, so a bomb is refused before it is allocated.
pub fn inflate(bytes: &[u8], limit: u64) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::new();
    // One byte past the limit tells "exactly the limit" from "more".
    let n = flate2::read::GzDecoder::new(bytes).take(limit.saturating_add(1)).read_to_end(&mut out)?;
    if n as u64 > limit {
        return Err(InflateError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn the_limit_is_inclusive_and_never_truncates() {
        let data = vec![b'a'; 1000];
        assert_eq!(inflate(&gzip(&data), 1000).unwrap(), data);
        assert!(matches!(inflate(&gzip(&data), 999), Err(InflateError::TooLarge { limit: 999 })));
        assert!(matches!(inflate(b"\x1f\x8b\x08garbage", 1000), Err(InflateError::Invalid(_))));
    }
}
