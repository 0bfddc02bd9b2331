//! Decode records and write them to stdout in the chosen format.

use crate::decode::decode_event;
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
        }
    }

    /// Print the table header (nothing for JSON).
    pub fn header(&mut self) {
        if let Format::Table(t) = &self.format {
            let line = t.header().to_string();
            self.emit(&line);
        }
    }

    /// Decode and print one record.
    pub fn record(&mut self, data: &[u8]) {
        let fields = match &self.layout {
            Some(layout) => match decode_event(layout, data) {
                Ok(f) => f,
                Err(e) => {
                    if self.decode_errors == 0 {
                        eprintln!("warning: {e}");
                    }
                    self.decode_errors += 1;
                    return;
                }
            },
            None => vec![(
                "data".to_string(),
                crate::decode::Value::Bytes(data.to_vec()),
            )],
        };
        let line = match &self.format {
            Format::Json => json::event_line(&fields),
            Format::Table(t) => t.row(&local_hms(), &fields),
        };
        self.emit(&line);
    }

    fn emit(&mut self, line: &str) {
        if self.closed {
            return;
        }
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            self.closed = true;
        }
    }
}
