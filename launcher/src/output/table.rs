//! ecli-style plain-text table: a header line of upper-cased member names,
//! then one row per event starting with the local time.

use super::json::{enum_text, hex, value_text};
use crate::decode::Value;

const TIME_HEADER: &str = "TIME     ";
const MIN_COLUMN: usize = 6;

/// Column layout derived from the event's member names.
#[derive(Debug, Clone)]
pub struct Table {
    header: String,
    /// Start offset of each column in a row.
    offsets: Vec<usize>,
}

impl Table {
    /// A table with one column per member name.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut header = String::from(TIME_HEADER);
        let mut offsets = Vec::new();
        for name in names {
            offsets.push(header.chars().count());
            let upper = name.to_uppercase();
            header.push_str(&format!("{upper:<MIN_COLUMN$} "));
        }
        Table { header, offsets }
    }

    /// The header line (no trailing newline).
    pub fn header(&self) -> &str {
        &self.header
    }

    /// One row: `time` padded to 8 and a space, then each value, padded to
    /// its column's offset or separated by one space when the line is
    /// already longer.
    pub fn row(&self, time: &str, fields: &[(String, Value)]) -> String {
        let mut line = format!("{time:<8} ");
        let mut len = line.chars().count();
        for (i, (_, v)) in fields.iter().enumerate() {
            let col = self.offsets.get(i).copied().unwrap_or(0);
            if len < col {
                line.push_str(&" ".repeat(col - len));
                len = col;
            } else if i > 0 {
                line.push(' ');
                len += 1;
            }
            let text = cell_text(v);
            len += text.chars().count();
            line.push_str(&text);
        }
        line
    }
}

/// How one value is shown in a table cell.
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::Signed(n) => n.to_string(),
        Value::Unsigned(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => s.clone(),
        Value::Enum { .. } => enum_text(v),
        Value::Ptr(p) => format!("{p:#x}"),
        Value::Bytes(b) => hex(b),
        Value::List(_) | Value::Record(_) => value_text(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_event, tests as d};

    #[test]
    fn header_pads_names_to_six_and_uppercases() {
        let t = Table::new(["pid", "comm", "filename"]);
        assert_eq!(t.header(), "TIME     PID    COMM   FILENAME ");
    }

    #[test]
    fn values_line_up_under_headers() {
        let t = Table::new(["pid", "comm", "filename"]);
        let fields = vec![
            ("pid".to_string(), Value::Signed(4242)),
            ("comm".to_string(), Value::Str("sh".into())),
            ("filename".to_string(), Value::Str("/bin/true".into())),
        ];
        let row = t.row("16:58:31", &fields);
        assert_eq!(row, "16:58:31 4242   sh     /bin/true");
        for (name, col) in ["PID", "COMM", "FILENAME"].iter().zip(t.offsets.iter()) {
            assert_eq!(t.header().find(name), Some(*col));
        }
    }

    #[test]
    fn long_values_push_later_columns_by_one_space() {
        let t = Table::new(["a", "b"]);
        let fields = vec![
            ("a".to_string(), Value::Str("0123456789".into())),
            ("b".to_string(), Value::Unsigned(1)),
        ];
        assert_eq!(t.row("00:00:00", &fields), "00:00:00 0123456789 1");
    }

    #[test]
    fn sample_event_cells() {
        let v = decode_event(&d::sample_layout(), &d::sample_record()).unwrap();
        let cells: Vec<String> = v.iter().map(|(_, v)| cell_text(v)).collect();
        assert_eq!(
            cells,
            vec![
                "-7",
                "1",
                "-2",
                "bash",
                "-123456789000",
                "SLEEPING(1)",
                "true",
                "0xffff8880deadbeef",
                "[80,443]",
                "{\"a\":200}"
            ]
        );
    }
}
