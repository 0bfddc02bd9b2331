//! Parsing what a packed tool prints: the plain table and `--json` lines.

use std::collections::BTreeMap;

/// One table row, keyed by lower-cased column name (`pid`, `comm`, …).
pub type Row = BTreeMap<String, String>;

/// The rows of the launcher's plain output: a header line with upper-case
/// column names (the first column is `TIME`), then one line per event.
/// Rows whose cell count differs from the header's (a value with a space, an
/// empty string) are left out; tests look for rows they caused, which have
/// neither.
pub fn table_rows(out: &str) -> Vec<Row> {
    let mut lines = out.lines();
    let Some(header) = lines
        .by_ref()
        .find(|l| l.split_whitespace().next() == Some("TIME"))
    else {
        return Vec::new();
    };
    let columns: Vec<String> = header.split_whitespace().map(str::to_lowercase).collect();
    lines
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cells| cells.len() == columns.len())
        .map(|cells| {
            columns
                .iter()
                .cloned()
                .zip(cells.into_iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// The events of `--json` output, one JSON object per line. A line that is
/// not a JSON object is an error naming it.
pub fn json_events(out: &str) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, String> {
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match serde_json::from_str(l) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            Ok(other) => Err(format!("not a JSON object: {other}")),
            Err(e) => Err(format!("not JSON ({e}): {l:?}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_follow_the_header() {
        let out = "Attaching...\nTIME     PID    PPID   COMM\n12:00:01 42     1      true\n12:00:02 43 1\n";
        let rows = table_rows(out);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["pid"], "42");
        assert_eq!(rows[0]["comm"], "true");
    }

    #[test]
    fn json_lines_must_be_objects() {
        let events = json_events("{\"pid\":1}\n\n{\"pid\":2}\n").expect("two JSON lines");
        assert_eq!(events.len(), 2);
        assert!(json_events("{\"pid\":1}\nTIME PID\n").is_err());
        assert!(json_events("[1]\n").is_err());
    }
}
