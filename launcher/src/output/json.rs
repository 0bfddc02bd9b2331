//! JSON rendering of decoded values: one compact object per event.
//!
//! Keys keep struct member order (ecli sorts them alphabetically; any JSON
//! consumer that reads objects by key sees the same data). Integers that do
//! not fit in 64 bits are written as decimal strings, like ecli.

use crate::decode::Value;
use std::fmt::Write as _;

/// One event as a compact JSON object (no trailing newline).
pub fn event_line(fields: &[(String, Value)]) -> String {
    let mut out = String::new();
    write_record(&mut out, fields);
    out
}

/// A single value as compact JSON text.
pub fn value_text(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v);
    out
}

fn write_record(out: &mut String, fields: &[(String, Value)]) {
    out.push('{');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, k);
        out.push(':');
        write_value(out, v);
    }
    out.push('}');
}

fn write_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::Value::from(s).to_string());
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Signed(n) => match i64::try_from(*n) {
            Ok(n) => {
                let _ = write!(out, "{n}");
            }
            Err(_) => write_str(out, &n.to_string()),
        },
        Value::Unsigned(n) => match u64::try_from(*n) {
            Ok(n) => {
                let _ = write!(out, "{n}");
            }
            Err(_) => write_str(out, &n.to_string()),
        },
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Float(f) => out.push_str(&serde_json::Value::from(*f).to_string()),
        Value::Str(s) => write_str(out, s),
        Value::Enum { .. } => write_str(out, &enum_text(v)),
        Value::Ptr(p) => {
            let _ = write!(out, "{p}");
        }
        Value::Bytes(b) => write_str(out, &hex(b)),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Record(fields) => write_record(out, fields),
    }
}

/// `NAME(value)` for enums (`<UNKNOWN_VARIANT>(value)` when no name matches,
/// as ecli prints it); empty for other values.
pub fn enum_text(v: &Value) -> String {
    match v {
        Value::Enum { name, value } => {
            format!(
                "{}({value})",
                name.as_deref().unwrap_or("<UNKNOWN_VARIANT>")
            )
        }
        _ => String::new(),
    }
}

/// Lower-case hex digits of `bytes`, no separators.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_event, tests as d};

    #[test]
    fn sample_event_as_json() {
        let v = decode_event(&d::sample_layout(), &d::sample_record()).unwrap();
        assert_eq!(
            event_line(&v),
            r#"{"pid":-7,"flag":1,"lvl":-2,"comm":"bash","delta":-123456789000,"st":"SLEEPING(1)","ok":true,"p":18446612685805960943,"ports":[80,443],"inner":{"a":200}}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&event_line(&v)).unwrap();
        assert_eq!(parsed["comm"], "bash");
    }

    #[test]
    fn big_integers_and_escaping() {
        let v = vec![
            ("big".to_string(), Value::Unsigned(u128::MAX)),
            ("neg".to_string(), Value::Signed(i128::MIN)),
            ("s".to_string(), Value::Str("a\"b\n".into())),
            (
                "e".to_string(),
                Value::Enum {
                    name: None,
                    value: 9,
                },
            ),
            ("x".to_string(), Value::Bytes(vec![0xde, 0xad])),
        ];
        let line = event_line(&v);
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["big"], u128::MAX.to_string());
        assert_eq!(parsed["neg"], i128::MIN.to_string());
        assert_eq!(parsed["s"], "a\"b\n");
        assert_eq!(parsed["e"], "<UNKNOWN_VARIANT>(9)");
        assert_eq!(parsed["x"], "dead");
    }
}
