//! Finding titles from free text: the first non-empty line, cut to [`MAX_TITLE`] characters.

/// Longest title kept (characters); longer first lines are cut with `…`.
pub(crate) const MAX_TITLE: usize = 200;

/// The first non-empty line of `text`, trimmed.
pub(crate) fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|l| !l.is_empty())
}

/// The first non-empty line of `text`, cut to [`MAX_TITLE`] characters (mid-word).
pub(crate) fn title_line(text: &str) -> Option<String> {
    let line = first_line(text)?;
    Some(match line.char_indices().nth(MAX_TITLE) {
        Some((cut, _)) => format!("{}…", line[..cut].trim_end()),
        None => line.to_string(),
    })
}

/// Cuts `text` to at most `max` characters, at a word boundary when there is one, adding `…`.
pub(crate) fn truncate_at_word(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => {
            let head = &text[..cut];
            let head = head.rsplit_once(' ').map_or(head, |(h, _)| h).trim_end_matches([',', ';', ':', '.', ' ']);
            format!("{head}…")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_cut_on_char_boundaries() {
        let long = "é".repeat(500);
        let t = title_line(&format!("\n  {long}\nmore")).unwrap();
        assert_eq!(t.chars().count(), MAX_TITLE + 1);
        assert!(t.ends_with('…'));
    }

    #[test]
    fn truncates_long_titles() {
        let long = "word ".repeat(100);
        let t = truncate_at_word(&long, 200);
        assert!(t.chars().count() <= 201 && t.ends_with("word…"), "{t}");
        assert_eq!(truncate_at_word("short", 200), "short");
    }
}
