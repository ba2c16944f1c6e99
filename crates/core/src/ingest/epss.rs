//! FIRST EPSS scores, from the daily CSV (`#model_version:…` line, `cve,epss,percentile`
//! header, one row per CVE; usually gzip-compressed — the loader inflates it).

use std::sync::Arc;

use crate::ingest::FormatError;
use rustc_hash::FxHashMap;

/// EPSS probability and percentile of one CVE.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct EpssScore {
    pub probability: f32,
    pub percentile: f32,
}

/// EPSS scores by upper-case CVE id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Epss {
    /// `model_version` and `score_date` from the first line, when present.
    pub model_version: String,
    pub score_date: String,
    scores: FxHashMap<Arc<str>, EpssScore>,
}

impl Epss {
    /// The score of a CVE id (case-insensitive).
    pub fn get(&self, cve: &str) -> Option<EpssScore> {
        if cve.bytes().any(|b| b.is_ascii_lowercase()) {
            self.scores.get(cve.to_ascii_uppercase().as_str()).copied()
        } else {
            self.scores.get(cve).copied()
        }
    }

    /// CVEs scored.
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// True when no CVE is scored.
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// Sets a CVE's score.
    pub fn insert(&mut self, cve: &str, score: EpssScore) {
        self.scores.insert(Arc::from(cve.trim().to_ascii_uppercase()), score);
    }

    /// Adds another file's scores (they win on conflict) and keeps the newest model date.
    pub fn merge(&mut self, other: Epss) {
        if other.score_date > self.score_date {
            self.model_version = other.model_version;
            self.score_date = other.score_date;
        }
        self.scores.extend(other.scores);
    }
}

/// True when the text starts like an EPSS CSV.
pub fn detect(text: &[u8]) -> bool {
    let start = &text[..text.len().min(64)];
    start.starts_with(b"#model_version") || start.starts_with(b"cve,epss")
}

/// Parses the CSV. Rows that are not `CVE-…,<0..1>,<0..1>` are errors naming the line.
pub fn parse(text: &[u8]) -> Result<Epss, FormatError> {
    let mut epss = Epss::default();
    let mut body = text;
    if text.starts_with(b"#") {
        let end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
        let meta = String::from_utf8_lossy(&text[1..end]);
        for part in meta.trim().split(',') {
            match part.split_once(':') {
                Some(("model_version", v)) => epss.model_version = v.to_string(),
                Some(("score_date", v)) => epss.score_date = v.to_string(),
                _ => {}
            }
        }
        body = &text[(end + 1).min(text.len())..];
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(body);
    let headers = reader.headers().map_err(|e| FormatError::new("line 1", e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(c_cve), Some(c_epss)) = (col("cve"), col("epss")) else {
        return Err(FormatError::whole(format!(
            "expected a header with `cve,epss,percentile`, found `{}`",
            headers.iter().collect::<Vec<_>>().join(",")
        )));
    };
    let c_pct = col("percentile");
    for (i, row) in reader.records().enumerate() {
        // +2 (or +3): 1-based, after the header (and the model line).
        let line = i + if text.starts_with(b"#") { 3 } else { 2 };
        let at = || format!("line {line}");
        let row = row.map_err(|e| FormatError::new(at(), e.to_string()))?;
        let cve = row.get(c_cve).unwrap_or("").trim();
        let num = |c: Option<usize>| -> Result<f32, FormatError> {
            match c.and_then(|c| row.get(c)) {
                None => Ok(0.0),
                Some(s) => s
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|v| (0.0..=1.0).contains(v))
                    .ok_or_else(|| FormatError::new(at(), format!("`{s}` is not a probability between 0 and 1"))),
            }
        };
        if !crate::model::finding::is_cve(cve) {
            return Err(FormatError::new(at(), format!("`{cve}` is not a CVE id")));
        }
        epss.insert(cve, EpssScore { probability: num(Some(c_epss))?, percentile: num(c_pct)? });
    }
    Ok(epss)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = b"#model_version:v2025.03.14,score_date:2025-09-03T00:00:00+0000\ncve,epss,percentile\nCVE-2021-44228,0.94358,0.99954\nCVE-1999-0001,0.01141,0.77816\n";

    #[test]
    fn parses_first_format() {
        assert!(detect(SAMPLE));
        let e = parse(SAMPLE).unwrap();
        assert_eq!(e.model_version, "v2025.03.14");
        assert_eq!(e.score_date, "2025-09-03T00:00:00+0000");
        assert_eq!(e.len(), 2);
        let s = e.get("cve-2021-44228").unwrap();
        assert!((s.probability - 0.94358).abs() < 1e-6);
        assert!((s.percentile - 0.99954).abs() < 1e-6);
    }

    #[test]
    fn bad_rows_name_the_line() {
        let err =
            parse(b"cve,epss,percentile\nCVE-2021-0001,0.5,0.5\nCVE-2021-0002,1.7,0.1\n").unwrap_err().to_string();
        assert!(err.starts_with("line 3:"), "{err}");
        let err = parse(b"cve,epss\nnope,0.1\n").unwrap_err().to_string();
        assert!(err.contains("not a CVE id"), "{err}");
    }
}
