//! Version-aware comparison of kernel release strings.

use std::cmp::Ordering;

/// One run of digits or of non-digits in a release string.
#[derive(Debug, PartialEq, Eq)]
enum Chunk<'a> {
    Number(u64),
    Text(&'a str),
}

fn chunks(release: &str) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    let mut rest = release;
    while let Some(first) = rest.chars().next() {
        let digit = first.is_ascii_digit();
        let end = rest
            .find(|c: char| c.is_ascii_digit() != digit)
            .unwrap_or(rest.len());
        let (chunk, tail) = rest.split_at(end);
        out.push(match chunk.parse::<u64>() {
            Ok(n) if digit => Chunk::Number(n),
            _ => Chunk::Text(chunk),
        });
        rest = tail;
    }
    out
}

fn compare_chunk(a: &Chunk<'_>, b: &Chunk<'_>) -> Ordering {
    match (a, b) {
        (Chunk::Number(x), Chunk::Number(y)) => x.cmp(y),
        (Chunk::Text(x), Chunk::Text(y)) => x.cmp(y),
        (Chunk::Number(_), Chunk::Text(_)) => Ordering::Less,
        (Chunk::Text(_), Chunk::Number(_)) => Ordering::Greater,
    }
}

/// Compares kernel releases with numbers compared as numbers, so
/// `5.4.0-9-generic` < `5.4.0-26-generic` < `5.15.0-1-generic`.
pub fn compare_releases(a: &str, b: &str) -> Ordering {
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(&cb) {
        let ord = compare_chunk(x, y);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

/// A sort key for how close `candidate` is to `target`: smaller is nearer.
///
/// The same flavour (the text after the last number, e.g. `generic` or
/// `azure`) is nearer; then releases that share a longer leading run of equal
/// chunks; then, at the first differing numeric chunk, a smaller difference;
/// ties go to the newer release.
fn distance_key(target: &str, candidate: &str) -> (bool, usize, u64) {
    let (ct, cc) = (chunks(target), chunks(candidate));
    let common = ct.iter().zip(&cc).take_while(|(x, y)| x == y).count();
    let diff = match (ct.get(common), cc.get(common)) {
        (Some(Chunk::Number(x)), Some(Chunk::Number(y))) => x.abs_diff(*y),
        _ => u64::MAX,
    };
    let flavour = |c: &[Chunk<'_>]| match c.last() {
        Some(Chunk::Text(t)) => Some(t.to_string()),
        _ => None,
    };
    (flavour(&ct) != flavour(&cc), usize::MAX - common, diff)
}

/// The release in `candidates` nearest to `target` (see `distance_key`), or
/// `None` when there are no candidates.
pub(crate) fn nearest_release<'a>(
    target: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates.into_iter().min_by(|a, b| {
        distance_key(target, a)
            .cmp(&distance_key(target, b))
            .then_with(|| compare_releases(b, a))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_order() {
        let mut v = vec![
            "5.15.0-1-generic",
            "5.4.0-26-generic",
            "5.4.0-9-generic",
            "4.19.0-20-amd64",
            "5.4.0-26-generic-foo",
        ];
        v.sort_by(|a, b| compare_releases(a, b));
        assert_eq!(
            v,
            [
                "4.19.0-20-amd64",
                "5.4.0-9-generic",
                "5.4.0-26-generic",
                "5.4.0-26-generic-foo",
                "5.15.0-1-generic"
            ]
        );
    }

    #[test]
    fn nearest() {
        let have = [
            "5.4.0-26-generic",
            "5.4.0-91-generic",
            "5.8.0-1-generic",
            "5.4.0-100-azure",
        ];
        assert_eq!(
            nearest_release("5.4.0-99-generic", have),
            Some("5.4.0-91-generic")
        );
        assert_eq!(
            nearest_release("5.4.0-99-azure", have),
            Some("5.4.0-100-azure")
        );
        assert_eq!(
            nearest_release("5.4.0-95-generic", have),
            Some("5.4.0-91-generic")
        );
        assert_eq!(
            nearest_release("5.8.0-3-generic", have),
            Some("5.8.0-1-generic")
        );
        assert_eq!(nearest_release("6.1.0", have), Some("5.8.0-1-generic"));
        assert_eq!(nearest_release("x", Vec::<&str>::new()), None);
    }
}
