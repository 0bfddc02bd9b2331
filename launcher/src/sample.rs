//! Sampled maps: maps marked `sample` in the package (eunomia's
//! `{"interval": ms, "type": "log2_hist"|"linear_hist"|"default_kv",
//! "unit": ..., "clear_map": bool}`) or named with `--sample MAP`, printed
//! periodically as bcc-style histograms or key/value tables.

use crate::decode::{decode_shape_at, Value};
use crate::layout::Shape;
use crate::output::json::value_text;
use crate::output::table::{cell_text, Table};
use bundle::package::{Meta, Value as Json};
use std::time::Duration;

/// Default sampling interval when neither the package nor `--interval` says.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
const STARS: usize = 40;

/// How a sampled map is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleKind {
    /// bcc `print_log2_hist` of the value's `slots`.
    Log2,
    /// bcc `print_linear_hist` of the value's `slots`.
    Linear,
    /// One row per entry.
    KeyValue,
    /// `log2` when the value has `slots`, else key/value.
    Auto,
}

/// What to sample and how.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSpec {
    /// libbpf map name (or the skeleton ident).
    pub map: String,
    /// Output form.
    pub kind: SampleKind,
    /// Histogram unit label.
    pub unit: String,
    /// Time between prints.
    pub interval: Duration,
    /// Delete the entries after each print.
    pub clear: bool,
    /// Linear histograms: value of slot 0.
    pub base: i64,
    /// Linear histograms: width of a slot.
    pub step: i64,
    /// Named by the package (not by `--sample`).
    pub from_package: bool,
}

/// The sampled maps: package `sample` entries, then `--sample` names.
pub fn specs(
    meta: &Meta,
    cli_maps: &[String],
    cli_interval: Option<Duration>,
) -> Result<Vec<SampleSpec>, String> {
    let mut out = Vec::new();
    for m in &meta.bpf_skel.maps {
        let Some(sample) = &m.sample else { continue };
        let Some(obj) = sample.as_object() else {
            return Err(format!(
                "package.json: map {}: `sample` must be an object like {{\"interval\": 1000, \"type\": \"log2_hist\"}}",
                m.name
            ));
        };
        let kind = match obj.get("type").and_then(Json::as_str) {
            None | Some("default_kv") => SampleKind::KeyValue,
            Some("log2_hist") => SampleKind::Log2,
            Some("linear_hist") => SampleKind::Linear,
            Some(other) => {
                return Err(format!(
                    "package.json: map {}: unknown sample type {other:?}; use log2_hist, linear_hist or default_kv",
                    m.name
                ))
            }
        };
        let ms = obj
            .get("interval")
            .and_then(Json::as_u64)
            .unwrap_or(1000)
            .max(1);
        out.push(SampleSpec {
            map: m.name.clone(),
            kind,
            unit: obj
                .get("unit")
                .and_then(Json::as_str)
                .unwrap_or("(unit)")
                .to_string(),
            interval: cli_interval.unwrap_or(Duration::from_millis(ms)),
            clear: obj
                .get("clear_map")
                .and_then(Json::as_bool)
                .unwrap_or(false),
            base: obj.get("base").and_then(Json::as_i64).unwrap_or(0),
            step: obj.get("step").and_then(Json::as_i64).unwrap_or(1).max(1),
            from_package: true,
        });
    }
    for name in cli_maps {
        let known = meta
            .bpf_skel
            .maps
            .iter()
            .find(|m| &m.name == name || &m.ident == name);
        let map = known.map_or_else(|| name.clone(), |m| m.name.clone());
        if out.iter().any(|s| s.map == map) {
            continue;
        }
        out.push(SampleSpec {
            map,
            kind: SampleKind::Auto,
            unit: "(unit)".to_string(),
            interval: cli_interval.unwrap_or(DEFAULT_INTERVAL),
            clear: false,
            base: 0,
            step: 1,
            from_package: false,
        });
    }
    Ok(out)
}

/// Key and value shapes of a map (from its BTF definition), or `None`
/// (raw bytes shown as hex).
#[derive(Debug, Clone, Default)]
pub struct MapTypes {
    /// Key shape.
    pub key: Option<Shape>,
    /// Value shape.
    pub value: Option<Shape>,
}

/// Histogram counts and the value's other members.
type Slots = (Vec<u64>, Vec<(String, Value)>);

/// The `slots` counts of a decoded value, and its other members.
fn split_slots(value: &Value) -> Option<Slots> {
    let counts = |items: &[Value]| -> Option<Vec<u64>> {
        items
            .iter()
            .map(|v| match v {
                Value::Unsigned(n) => u64::try_from(*n).ok(),
                Value::Signed(n) => u64::try_from(*n).ok().or(Some(0)),
                _ => None,
            })
            .collect()
    };
    match value {
        Value::List(items) => Some((counts(items)?, Vec::new())),
        Value::Record(fields) => {
            let (_, slots) = fields.iter().find(|(n, _)| n == "slots")?;
            let Value::List(items) = slots else {
                return None;
            };
            let rest = fields
                .iter()
                .filter(|(n, _)| n != "slots")
                .cloned()
                .collect();
            Some((counts(items)?, rest))
        }
        _ => None,
    }
}

fn stars(val: u64, val_max: u64, width: usize) -> String {
    if val_max == 0 {
        return " ".repeat(width);
    }
    let n = (val.min(val_max) as u128 * width as u128 / val_max as u128) as usize;
    let mut s = "*".repeat(n);
    s.push_str(&" ".repeat(width - n));
    if val > val_max {
        s.push('+');
    }
    s
}

/// bcc's `print_log2_hist`.
pub fn log2_hist(slots: &[u64], unit: &str) -> Vec<String> {
    let idx_max = slots.iter().rposition(|v| *v > 0);
    let val_max = slots.iter().copied().max().unwrap_or(0);
    let wide = idx_max.is_some_and(|i| i > 32);
    let (pad, unit_w, width, stars_w) = if wide {
        (15, 29, 20, STARS / 2)
    } else {
        (5, 19, 10, STARS)
    };
    let mut out = vec![format!(
        "{:>pad$}{unit:<unit_w$} : count    distribution",
        ""
    )];
    let Some(idx_max) = idx_max else { return out };
    // Slot 127 is the last whose range fits in 128 bits.
    for (i, val) in slots.iter().enumerate().take(idx_max.min(126) + 1) {
        let top = 1u128 << (i + 1);
        let high: u128 = top - 1;
        let mut low: u128 = top >> 1;
        if low == high {
            low -= 1;
        }
        out.push(format!(
            "{low:>width$} -> {high:<width$} : {val:<8} |{}|",
            stars(*val, val_max, stars_w)
        ));
    }
    out
}

/// bcc's `print_linear_hist`: non-empty slots, slot i covering `base + i*step`.
pub fn linear_hist(slots: &[u64], base: i64, step: i64, unit: &str) -> Vec<String> {
    let val_max = slots.iter().copied().max().unwrap_or(0);
    let mut out = vec![format!("     {unit:<13} : count     distribution")];
    for (i, val) in slots.iter().enumerate() {
        if *val == 0 {
            continue;
        }
        let start = i128::from(base) + i as i128 * i128::from(step);
        out.push(format!(
            "        {start:<10} : {val:<8} |{}|",
            stars(*val, val_max, STARS)
        ));
    }
    out
}

fn decode(shape: Option<&Shape>, bytes: &[u8]) -> Value {
    match shape {
        Some(s) => decode_shape_at(s, bytes),
        None => Value::Bytes(bytes.to_vec()),
    }
}

fn columns(prefix: &str, v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Record(fields) => fields.clone(),
        other => vec![(prefix.to_string(), other.clone())],
    }
}

/// The lines for one round of `spec` over `entries` (raw key, raw value).
pub fn render(
    spec: &SampleSpec,
    types: &MapTypes,
    entries: &[(Vec<u8>, Vec<u8>)],
    json: bool,
    time: &str,
) -> Vec<String> {
    let decoded: Vec<(Value, Value)> = entries
        .iter()
        .map(|(k, v)| {
            (
                decode(types.key.as_ref(), k),
                decode(types.value.as_ref(), v),
            )
        })
        .collect();
    if json {
        return decoded
            .iter()
            .map(|(k, v)| format!("{{\"key\":{},\"value\":{}}}", value_text(k), value_text(v)))
            .collect();
    }
    let kind = match spec.kind {
        SampleKind::Auto
            if decoded.iter().all(|(_, v)| split_slots(v).is_some()) && !decoded.is_empty() =>
        {
            SampleKind::Log2
        }
        SampleKind::Auto => SampleKind::KeyValue,
        k => k,
    };
    let mut out = Vec::new();
    match kind {
        SampleKind::Log2 | SampleKind::Linear => {
            out.push(format!("{time} {}", spec.map));
            for (k, v) in &decoded {
                out.push(format!("key = {}", cell_text(k)));
                match split_slots(v) {
                    Some((slots, rest)) => {
                        for (n, x) in &rest {
                            out.push(format!("{n} = {}", cell_text(x)));
                        }
                        if kind == SampleKind::Log2 {
                            out.extend(log2_hist(&slots, &spec.unit));
                        } else {
                            out.extend(linear_hist(&slots, spec.base, spec.step, &spec.unit));
                        }
                    }
                    None => out.push(format!(
                        "value = {} (no `slots` array to draw a histogram from)",
                        cell_text(v)
                    )),
                }
            }
        }
        SampleKind::KeyValue | SampleKind::Auto => {
            let Some((k0, v0)) = decoded.first() else {
                return out;
            };
            let names: Vec<String> = columns("key", k0)
                .into_iter()
                .chain(columns("value", v0))
                .map(|(n, _)| n)
                .collect();
            let table = Table::new(names.iter().map(String::as_str));
            out.push(table.header().to_string());
            for (k, v) in &decoded {
                let mut fields = columns("key", k);
                fields.extend(columns("value", v));
                out.push(table.row(time, &fields));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_matches_bcc() {
        let mut slots = vec![0u64; 32];
        slots[0] = 1;
        slots[9] = 5;
        slots[2] = 10;
        let lines = log2_hist(&slots, "bytes");
        assert_eq!(lines[0], "     bytes               : count    distribution");
        assert_eq!(
            lines[1],
            format!("{:>10} -> {:<10} : {:<8} |{:<40}|", 0, 1, 1, "****")
        );
        assert_eq!(
            lines[3],
            format!("{:>10} -> {:<10} : {:<8} |{}|", 4, 7, 10, "*".repeat(40))
        );
        assert_eq!(
            lines[10],
            format!(
                "{:>10} -> {:<10} : {:<8} |{:<40}|",
                512,
                1023,
                5,
                "*".repeat(20)
            )
        );
        assert_eq!(lines.len(), 11);
        assert_eq!(log2_hist(&[0; 4], "x").len(), 1);
        // Wide histograms use bcc's wider layout; absurdly long ones stop at slot 126.
        let mut wide = vec![0u64; 200];
        wide[40] = 1;
        wide[199] = 2;
        let lines = log2_hist(&wide, "ns");
        assert_eq!(lines.len(), 128);
        assert!(
            lines[0].starts_with(&format!("{:15}ns{:27} : count", "", "")),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn linear_skips_empty_slots() {
        let lines = linear_hist(&[0, 2, 0, 4], 10, 5, "ms");
        assert_eq!(lines[0], "     ms            : count     distribution");
        assert_eq!(
            lines[1],
            format!("        {:<10} : {:<8} |{:<40}|", 15, 2, "*".repeat(20))
        );
        assert_eq!(
            lines[2],
            format!("        {:<10} : {:<8} |{}|", 25, 4, "*".repeat(40))
        );
    }

    fn spec(kind: SampleKind) -> SampleSpec {
        SampleSpec {
            map: "hists".into(),
            kind,
            unit: "bytes".into(),
            interval: DEFAULT_INTERVAL,
            clear: false,
            base: 0,
            step: 1,
            from_package: false,
        }
    }

    #[test]
    fn key_value_table_and_json() {
        let types = MapTypes {
            key: Some(Shape::Int {
                size: 4,
                signed: false,
            }),
            value: Some(Shape::Int {
                size: 8,
                signed: false,
            }),
        };
        let entries = vec![(7u32.to_le_bytes().to_vec(), 42u64.to_le_bytes().to_vec())];
        let text = render(&spec(SampleKind::Auto), &types, &entries, false, "12:00:00");
        assert_eq!(text, vec!["TIME     KEY    VALUE  ", "12:00:00 7      42"]);
        let json = render(&spec(SampleKind::KeyValue), &types, &entries, true, "x");
        assert_eq!(json, vec![r#"{"key":7,"value":42}"#]);
    }

    #[test]
    fn unknown_types_are_hex() {
        let entries = vec![(vec![1, 2], vec![0xff])];
        let json = render(
            &spec(SampleKind::KeyValue),
            &MapTypes::default(),
            &entries,
            true,
            "x",
        );
        assert_eq!(json, vec![r#"{"key":"0102","value":"ff"}"#]);
    }
}
