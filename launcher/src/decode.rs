//! Decode one event record (raw bytes from a ring or perf buffer) into a
//! value tree, following an [`EventLayout`].

use crate::layout::{EventLayout, Field, Shape};

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Signed integer (any width up to 128 bits).
    Signed(i128),
    /// Unsigned integer (any width up to 128 bits).
    Unsigned(u128),
    /// Boolean.
    Bool(bool),
    /// Floating point number.
    Float(f64),
    /// A string (from `char[N]`, cut at NUL, invalid UTF-8 replaced).
    Str(String),
    /// An enum value and the name of its enumerator, if any matches.
    Enum {
        /// Enumerator name, `None` when no enumerator has this value.
        name: Option<String>,
        /// The numeric value.
        value: i128,
    },
    /// A pointer value.
    Ptr(u64),
    /// Bytes that have no structural meaning.
    Bytes(Vec<u8>),
    /// Array elements.
    List(Vec<Value>),
    /// Struct/union members in declaration order.
    Record(Vec<(String, Value)>),
}

/// Why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The record is shorter than the struct it should hold.
    #[error("event record has {got} bytes but struct {name} needs {need}; is export_types[0] the struct the program submits?")]
    TooShort {
        /// Struct name.
        name: String,
        /// Bytes needed.
        need: u32,
        /// Bytes received.
        got: usize,
    },
}

/// Decode `data` as one `layout` record. Extra trailing bytes are ignored
/// (perf buffer samples are padded to 8 bytes).
pub fn decode_event(
    layout: &EventLayout,
    data: &[u8],
) -> Result<Vec<(String, Value)>, DecodeError> {
    if data.len() < layout.size as usize {
        return Err(DecodeError::TooShort {
            name: layout.name.clone(),
            need: layout.size,
            got: data.len(),
        });
    }
    Ok(decode_fields(&layout.fields, data))
}

/// Decode one value of `shape` from the start of `bytes` (missing bytes read
/// as zero).
pub fn decode_shape_at(shape: &Shape, bytes: &[u8]) -> Value {
    decode_shape(shape, bytes)
}

fn decode_fields(fields: &[Field], data: &[u8]) -> Vec<(String, Value)> {
    fields
        .iter()
        .map(|f| (f.name.clone(), decode_field(f, data)))
        .collect()
}

fn decode_field(field: &Field, data: &[u8]) -> Value {
    match field.bitfield_size {
        Some(bits) => decode_bitfield(field, bits, data),
        None => {
            let start = usize::try_from(field.bit_offset / 8).unwrap_or(usize::MAX);
            decode_shape(&field.shape, data.get(start..).unwrap_or(&[]))
        }
    }
}

/// Read `bits` bits starting at `field.bit_offset` (little-endian layout).
fn decode_bitfield(field: &Field, bits: u32, data: &[u8]) -> Value {
    let bits = bits.min(128);
    let first_byte = field.bit_offset / 8;
    let shift = (field.bit_offset % 8) as u32;
    let nbytes = (shift + bits).div_ceil(8) as u64;
    let mut raw: u128 = 0;
    for i in 0..nbytes.min(16) {
        let byte = usize::try_from(first_byte + i)
            .ok()
            .and_then(|idx| data.get(idx))
            .copied()
            .unwrap_or(0);
        raw |= u128::from(byte) << (8 * i);
    }
    raw >>= shift;
    if bits < 128 {
        raw &= (1u128 << bits) - 1;
    }
    let signed_value = || -> i128 {
        if bits == 0 || bits >= 128 {
            raw as i128
        } else {
            let sh = 128 - bits;
            ((raw << sh) as i128) >> sh
        }
    };
    match &field.shape {
        Shape::Int { signed: true, .. } => Value::Signed(signed_value()),
        Shape::Bool { .. } => Value::Bool(raw != 0),
        Shape::Enum { signed, values, .. } => {
            let v = if *signed { signed_value() } else { raw as i128 };
            enum_value(values, v)
        }
        _ => Value::Unsigned(raw),
    }
}

fn read_le(bytes: &[u8], size: u32) -> u128 {
    let mut raw: u128 = 0;
    for (i, b) in bytes.iter().take(size.min(16) as usize).enumerate() {
        raw |= u128::from(*b) << (8 * i);
    }
    raw
}

fn sign_extend(raw: u128, size: u32) -> i128 {
    let bits = size.min(16) * 8;
    if bits == 0 || bits >= 128 {
        return raw as i128;
    }
    let sh = 128 - bits;
    ((raw << sh) as i128) >> sh
}

fn enum_value(values: &[(String, i128)], v: i128) -> Value {
    let name = values.iter().find(|(_, x)| *x == v).map(|(n, _)| n.clone());
    Value::Enum { name, value: v }
}

fn decode_shape(shape: &Shape, bytes: &[u8]) -> Value {
    match shape {
        Shape::Int { size, signed } => {
            let raw = read_le(bytes, *size);
            if *signed {
                Value::Signed(sign_extend(raw, *size))
            } else {
                Value::Unsigned(raw)
            }
        }
        Shape::Bool { size } => Value::Bool(read_le(bytes, *size) != 0),
        Shape::Float { size } => match (*size, bytes) {
            (4, [a, b, c, d, ..]) => Value::Float(f64::from(f32::from_le_bytes([*a, *b, *c, *d]))),
            (8, [a, b, c, d, e, f, g, h, ..]) => {
                Value::Float(f64::from_le_bytes([*a, *b, *c, *d, *e, *f, *g, *h]))
            }
            _ => Value::Bytes(take(bytes, *size)),
        },
        Shape::Ptr { size } => Value::Ptr(read_le(bytes, *size) as u64),
        Shape::Enum {
            size,
            signed,
            values,
        } => {
            let raw = read_le(bytes, *size);
            let v = if *signed {
                sign_extend(raw, *size)
            } else {
                raw as i128
            };
            enum_value(values, v)
        }
        Shape::CharArray { len } => {
            let b = take(bytes, *len);
            let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
            Value::Str(String::from_utf8_lossy(b.get(..end).unwrap_or(&[])).into_owned())
        }
        Shape::Array {
            elem,
            elem_size,
            len,
        } => Value::List(
            (0..*len as usize)
                .map(|i| {
                    let start = i.saturating_mul(*elem_size as usize);
                    decode_shape(elem, bytes.get(start..).unwrap_or(&[]))
                })
                .collect(),
        ),
        Shape::Record { fields } => Value::Record(decode_fields(fields, bytes)),
        Shape::Opaque { size } => Value::Bytes(take(bytes, *size)),
    }
}

fn take(bytes: &[u8], n: u32) -> Vec<u8> {
    bytes.iter().take(n as usize).copied().collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn field(name: &str, byte_offset: u64, shape: Shape) -> Field {
        Field {
            name: name.to_string(),
            bit_offset: byte_offset * 8,
            bitfield_size: None,
            shape,
        }
    }

    /// struct event { int pid; unsigned char flag:1; signed char lvl:3; char comm[8]; long long delta;
    ///                enum state st; _Bool ok; void *p; u16 ports[2]; struct { u8 a; } inner; }
    pub(crate) fn sample_layout() -> EventLayout {
        EventLayout {
            name: "event".into(),
            size: 48,
            fields: vec![
                field(
                    "pid",
                    0,
                    Shape::Int {
                        size: 4,
                        signed: true,
                    },
                ),
                Field {
                    name: "flag".into(),
                    bit_offset: 32,
                    bitfield_size: Some(1),
                    shape: Shape::Int {
                        size: 1,
                        signed: false,
                    },
                },
                Field {
                    name: "lvl".into(),
                    bit_offset: 33,
                    bitfield_size: Some(3),
                    shape: Shape::Int {
                        size: 1,
                        signed: true,
                    },
                },
                field("comm", 5, Shape::CharArray { len: 8 }),
                field(
                    "delta",
                    16,
                    Shape::Int {
                        size: 8,
                        signed: true,
                    },
                ),
                field(
                    "st",
                    24,
                    Shape::Enum {
                        size: 4,
                        signed: false,
                        values: vec![("RUNNING".into(), 0), ("SLEEPING".into(), 1)],
                    },
                ),
                field("ok", 28, Shape::Bool { size: 1 }),
                field("p", 32, Shape::Ptr { size: 8 }),
                field(
                    "ports",
                    40,
                    Shape::Array {
                        elem: Box::new(Shape::Int {
                            size: 2,
                            signed: false,
                        }),
                        elem_size: 2,
                        len: 2,
                    },
                ),
                field(
                    "inner",
                    44,
                    Shape::Record {
                        fields: vec![field(
                            "a",
                            0,
                            Shape::Int {
                                size: 1,
                                signed: false,
                            },
                        )],
                    },
                ),
            ],
        }
    }

    pub(crate) fn sample_record() -> Vec<u8> {
        let mut d = vec![0u8; 48];
        d[0..4].copy_from_slice(&(-7i32).to_le_bytes());
        // flag = 1 (bit 0), lvl = -2 = 0b110 (bits 1..4)
        d[4] = 0b0000_1101;
        d[5..9].copy_from_slice(b"bash");
        d[16..24].copy_from_slice(&(-123_456_789_000i64).to_le_bytes());
        d[24..28].copy_from_slice(&1u32.to_le_bytes());
        d[28] = 1;
        d[32..40].copy_from_slice(&0xffff_8880_dead_beefu64.to_le_bytes());
        d[40..42].copy_from_slice(&80u16.to_le_bytes());
        d[42..44].copy_from_slice(&443u16.to_le_bytes());
        d[44] = 200;
        d
    }

    #[test]
    fn decodes_every_kind_of_member() {
        let v = decode_event(&sample_layout(), &sample_record()).unwrap();
        let get = |n: &str| {
            v.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("pid"), Value::Signed(-7));
        assert_eq!(get("flag"), Value::Unsigned(1));
        assert_eq!(get("lvl"), Value::Signed(-2));
        assert_eq!(get("comm"), Value::Str("bash".into()));
        assert_eq!(get("delta"), Value::Signed(-123_456_789_000));
        assert_eq!(
            get("st"),
            Value::Enum {
                name: Some("SLEEPING".into()),
                value: 1
            }
        );
        assert_eq!(get("ok"), Value::Bool(true));
        assert_eq!(get("p"), Value::Ptr(0xffff_8880_dead_beef));
        assert_eq!(
            get("ports"),
            Value::List(vec![Value::Unsigned(80), Value::Unsigned(443)])
        );
        assert_eq!(
            get("inner"),
            Value::Record(vec![("a".into(), Value::Unsigned(200))])
        );
    }

    #[test]
    fn short_record_is_an_error_not_a_panic() {
        let err = decode_event(&sample_layout(), &[1, 2, 3]).unwrap_err();
        assert!(err.to_string().contains("3 bytes"), "{err}");
    }

    #[test]
    fn unsigned_64_bit_max_and_128_bit() {
        let layout = EventLayout {
            name: "e".into(),
            size: 24,
            fields: vec![
                field(
                    "a",
                    0,
                    Shape::Int {
                        size: 8,
                        signed: false,
                    },
                ),
                field(
                    "b",
                    8,
                    Shape::Int {
                        size: 16,
                        signed: true,
                    },
                ),
            ],
        };
        let mut d = vec![0xffu8; 24];
        d[8..24].copy_from_slice(&(-5i128).to_le_bytes());
        let v = decode_event(&layout, &d).unwrap();
        assert_eq!(v[0].1, Value::Unsigned(u128::from(u64::MAX)));
        assert_eq!(v[1].1, Value::Signed(-5));
    }

    #[test]
    fn unknown_enum_value_and_string_without_nul() {
        let layout = EventLayout {
            name: "e".into(),
            size: 8,
            fields: vec![
                field(
                    "st",
                    0,
                    Shape::Enum {
                        size: 4,
                        signed: true,
                        values: vec![("A".into(), 0)],
                    },
                ),
                field("s", 4, Shape::CharArray { len: 4 }),
            ],
        };
        let mut d = (-3i32).to_le_bytes().to_vec();
        d.extend_from_slice(b"abcd");
        let v = decode_event(&layout, &d).unwrap();
        assert_eq!(
            v[0].1,
            Value::Enum {
                name: None,
                value: -3
            }
        );
        assert_eq!(v[1].1, Value::Str("abcd".into()));
    }
}
