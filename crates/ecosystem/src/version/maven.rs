//! Maven versions, ordered as Maven's `ComparableVersion`.
//!
//! A port of `org.apache.maven.artifact.versioning.ComparableVersion` (apache/maven,
//! `compat/maven-artifact`, Maven 4 line, with `CombinationItem`). The version is
//! lower-cased and split into items at `.` and `-` and at every digit/letter transition;
//! a `-` (or a letter→digit transition) opens a nested list. Items are numbers, qualifiers
//! and letter+number combinations (`rc1`, `sp2`, `-sp-1` = `sp1`); trailing "null" items
//! (`0`, empty qualifier) are dropped, so `1` = `1.0` = `1-0`. Qualifiers rank
//! `alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp`, then
//! any other qualifier lexically; `a1`/`b1`/`m1` mean `alpha-1`/`beta-1`/`milestone-1`.
//! Numbers compare by value of any size. Only ASCII digits are digits.

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    /// A number, as digits without leading zeros (`0` for zero).
    Num(String),
    /// A qualifier, aliases applied.
    Str(String),
    /// Qualifier followed by a number (`rc1`).
    Combo(String, Box<Item>),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_QUALIFIERS: [&str; 3] = ["ga", "final", "release"];
/// `String.valueOf(QUALIFIERS.indexOf(""))`.
const RELEASE_VERSION_INDEX: &str = "5";

fn string_item(value: &str, followed_by_digit: bool) -> String {
    let v = match value {
        "a" if followed_by_digit => "alpha",
        "b" if followed_by_digit => "beta",
        "m" if followed_by_digit => "milestone",
        "cr" => "rc",
        other => other,
    };
    v.to_string()
}

fn comparable_qualifier(q: &str) -> String {
    if RELEASE_QUALIFIERS.contains(&q) {
        return RELEASE_VERSION_INDEX.to_string();
    }
    match QUALIFIERS.iter().position(|x| *x == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn num_item(digits: &str) -> Item {
    let d = digits.trim_start_matches('0');
    Item::Num(if d.is_empty() { "0".into() } else { d.into() })
}

fn combo_item(value: &str) -> Item {
    let value = value.replace('-', "");
    let index = value.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
    Item::Combo(string_item(&value[..index], true), Box::new(num_item(&value[index..])))
}

fn parse_item(is_combination: bool, is_digit: bool, buf: &str) -> Item {
    if is_combination {
        combo_item(buf)
    } else if is_digit {
        num_item(buf)
    } else {
        Item::Str(string_item(buf, false))
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Num(n) => n == "0",
            Item::Str(s) => s.is_empty(),
            Item::Combo(..) => false,
            Item::List(l) => l.is_empty(),
        }
    }

    /// `Item.compareTo`, with `None` for Java's `null` (the other list ran out).
    fn cmp_opt(&self, other: Option<&Item>) -> Ordering {
        use Ordering::*;
        match (self, other) {
            (Item::Num(n), None) => {
                if n == "0" {
                    Equal
                } else {
                    Greater
                }
            }
            (Item::Num(a), Some(Item::Num(b))) => cmp_digits(a, b),
            (Item::Num(_), Some(_)) => Greater,

            (Item::Str(s), None) => comparable_qualifier(s).as_str().cmp(RELEASE_VERSION_INDEX),
            (Item::Str(_), Some(Item::Num(_) | Item::List(_))) => Less,
            (Item::Str(a), Some(Item::Str(b))) => comparable_qualifier(a).cmp(&comparable_qualifier(b)),
            (Item::Str(_), Some(Item::Combo(s, _))) => match self.cmp_opt(Some(&Item::Str(s.clone()))) {
                Equal => Less,
                o => o,
            },

            (Item::Combo(s, _), None) => Item::Str(s.clone()).cmp_opt(None),
            (Item::Combo(..), Some(Item::Num(_) | Item::List(_))) => Less,
            (Item::Combo(s, _), Some(other @ Item::Str(_))) => match Item::Str(s.clone()).cmp_opt(Some(other)) {
                Equal => Greater,
                o => o,
            },
            (Item::Combo(s, d), Some(Item::Combo(os, od))) => {
                match Item::Str(s.clone()).cmp_opt(Some(&Item::Str(os.clone()))) {
                    Equal => d.cmp_opt(Some(od)),
                    o => o,
                }
            }

            (Item::List(l), None) => {
                for i in l {
                    let r = i.cmp_opt(None);
                    if r != Equal {
                        return r;
                    }
                }
                Equal
            }
            (Item::List(_), Some(Item::Num(_))) => Less,
            (Item::List(_), Some(Item::Str(_) | Item::Combo(..))) => Greater,
            (Item::List(a), Some(Item::List(b))) => {
                for i in 0..a.len().max(b.len()) {
                    let r = match (a.get(i), b.get(i)) {
                        (None, None) => Equal,
                        (None, Some(r)) => r.cmp_opt(None).reverse(),
                        (Some(l), r) => l.cmp_opt(r),
                    };
                    if r != Equal {
                        return r;
                    }
                }
                Equal
            }
        }
    }
}

/// `ListItem.normalize`: drop null items at the end and before a qualifier.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if !list[i].is_null() {
            continue;
        }
        let remove = match list.get(i + 1) {
            None | Some(Item::Str(_)) => true,
            Some(Item::List(next)) => matches!(next.first(), Some(Item::Combo(..) | Item::Str(_))),
            _ => false,
        };
        if remove {
            list.remove(i);
        }
    }
}

/// A parsed Maven version. Every string is a Maven version (as in Maven).
#[derive(Clone, Debug)]
pub struct MavenVersion {
    items: Item,
}

impl MavenVersion {
    /// `ComparableVersion.parseVersion`.
    pub fn parse(text: &str) -> MavenVersion {
        let v = text.to_lowercase();
        let chars: Vec<(usize, char)> = v.char_indices().collect();
        // The stack of open lists; each new list is the last item of its parent.
        let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
        let (mut is_digit, mut is_combination, mut start) = (false, false, 0usize);
        for (k, &(i, c)) in chars.iter().enumerate() {
            let top = stack.len() - 1;
            if c == '.' {
                let item =
                    if i == start { Item::Num("0".into()) } else { parse_item(is_combination, is_digit, &v[start..i]) };
                stack[top].push(item);
                is_combination = false;
                start = i + 1;
            } else if c == '-' {
                if i == start {
                    stack[top].push(Item::Num("0".into()));
                } else {
                    // X-1 is treated as X1.
                    if !is_digit && chars.get(k + 1).is_some_and(|(_, n)| n.is_ascii_digit()) {
                        is_combination = true;
                        continue;
                    }
                    stack[top].push(parse_item(is_combination, is_digit, &v[start..i]));
                }
                start = i + 1;
                if !stack[top].is_empty() {
                    stack.push(Vec::new());
                }
                is_combination = false;
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    is_combination = true;
                    if !stack[top].is_empty() {
                        stack.push(Vec::new());
                    }
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    stack[top].push(parse_item(is_combination, true, &v[start..i]));
                    start = i;
                    stack.push(Vec::new());
                    is_combination = false;
                }
                is_digit = false;
            }
        }
        if v.len() > start {
            let top = stack.len() - 1;
            if !is_digit && !stack[top].is_empty() {
                stack.push(Vec::new());
            }
            let top = stack.len() - 1;
            stack[top].push(parse_item(is_combination, is_digit, &v[start..]));
        }
        let mut list = stack.pop().unwrap_or_default();
        normalize(&mut list);
        while let Some(mut parent) = stack.pop() {
            parent.push(Item::List(list));
            normalize(&mut parent);
            list = parent;
        }
        MavenVersion { items: Item::List(list) }
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for MavenVersion {}
impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.items.cmp_opt(Some(&other.items))
    }
}
