//! Decode records and write them to stdout in the chosen format.

use crate::decode::{decode_event, Value};
use crate::layout::EventLayout;
use crate::output::{json, local_hms, table::Table};
use std::io::Write;

/// Output format.
pub enum Format {
    /// ecli-style table.
    Table(Table),
    /// One JSON object per line.
    Json,
}

/// Turns raw records into lines on stdout; counts what went wrong.
pub struct Printer {
    layout: Option<EventLayout>,
    format: Format,
    /// Records that could not be decoded.
    pub decode_errors: u64,
    /// stdout was closed (e.g. `| head`): stop polling.
    pub closed: bool,
    header_due: bool,
}

impl Printer {
    /// A printer for `layout` (`None` = no event type known: raw hex).
    pub fn new(layout: Option<EventLayout>, json_output: bool) -> Self {
        let format = if json_output {
            Format::Json
        } else {
            let names: Vec<&str> = match &layout {
                Some(l) => l.fields.iter().map(|f| f.name.as_str()).collect(),
                None => vec!["data"],
            };
            Format::Table(Table::new(names))
        };
        Printer {
            layout,
            format,
            decode_errors: 0,
            closed: false,
            header_due: false,
        }
    }

    /// Print the table header before the first record instead of at start
    /// (when several event types share stdout).
    pub fn lazy_header(&mut self) {
        self.header_due = matches!(self.format, Format::Table(_));
    }

    /// Print the table header (nothing for JSON).
    pub fn header(&mut self) {
        if let Format::Table(t) = &self.format {
            let line = t.header().to_string();
            self.emit(&line);
        }
    }

    /// Decode and print one record; the header first when it is still due
    /// (see [`Printer::lazy_header`]).
    pub fn record(&mut self, data: &[u8]) {
        if self.header_due {
            self.header_due = false;
            self.header();
        }
        if let Some(line) = self.format_record(data, &local_hms()) {
            self.emit(&line);
        }
    }

    /// The output line for one record (`time` is used by the table format);
    /// `None` when it cannot be decoded (counted, first error shown).
    fn format_record(&mut self, data: &[u8], time: &str) -> Option<String> {
        let fields = match &self.layout {
            Some(layout) => match decode_event(layout, data) {
                Ok(f) => f,
                Err(e) => {
                    if self.decode_errors == 0 {
                        eprintln!("warning: {e}");
                    }
                    self.decode_errors += 1;
                    return None;
                }
            },
            None => vec![("data".to_string(), Value::Bytes(data.to_vec()))],
        };
        Some(match &self.format {
            Format::Json => json::event_line(&fields),
            Format::Table(t) => t.row(time, &fields),
        })
    }

    fn emit(&mut self, line: &str) {
        if self.closed {
            return;
        }
        if !print_line(line) {
            self.closed = true;
        }
    }

    /// The layout records are decoded with.
    pub fn layout(&self) -> Option<&EventLayout> {
        self.layout.as_ref()
    }
}

/// Write one line to stdout and flush; `false` when stdout is closed.
pub fn print_line(line: &str) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tests::{sample_layout, sample_record};

    #[test]
    fn without_a_layout_records_are_hex() {
        let mut table = Printer::new(None, false);
        assert_eq!(
            table
                .format_record(&[0xde, 0xad, 0x01], "12:00:00")
                .unwrap(),
            "12:00:00 dead01"
        );
        let mut json = Printer::new(None, true);
        assert_eq!(
            json.format_record(&[0xbe, 0xef], "x").unwrap(),
            r#"{"data":"beef"}"#
        );
    }

    #[test]
    fn short_records_are_counted_not_printed() {
        let mut p = Printer::new(Some(sample_layout()), true);
        assert_eq!(p.format_record(&[1, 2], "x"), None);
        assert_eq!(p.decode_errors, 1);
        assert!(p.format_record(&sample_record(), "x").is_some());
        assert_eq!(p.decode_errors, 1);
    }
}
