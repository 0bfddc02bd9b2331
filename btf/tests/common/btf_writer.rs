//! A tiny raw-BTF writer for synthetic kernels and malformed inputs. It writes exactly what it
//! is told (no validation), so tests can build both valid and broken BTF.

/// BTF kind numbers (uapi btf.h).
pub mod kind {
    pub const INT: u32 = 1;
    pub const PTR: u32 = 2;
    pub const ARRAY: u32 = 3;
    pub const STRUCT: u32 = 4;
    pub const UNION: u32 = 5;
    pub const ENUM: u32 = 6;
    pub const FWD: u32 = 7;
    pub const TYPEDEF: u32 = 8;
    pub const VOLATILE: u32 = 9;
    pub const CONST: u32 = 10;
    pub const RESTRICT: u32 = 11;
    pub const FUNC: u32 = 12;
    pub const FUNC_PROTO: u32 = 13;
    pub const VAR: u32 = 14;
    pub const DATASEC: u32 = 15;
    pub const FLOAT: u32 = 16;
    pub const DECL_TAG: u32 = 17;
    pub const TYPE_TAG: u32 = 18;
    pub const ENUM64: u32 = 19;
}

/// A struct/union member: name, type id, bit offset, bitfield size (0 = not a bitfield).
pub type Member<'a> = (&'a str, u32, u32, u32);

/// Builds the type and string sections of a raw BTF blob; ids are assigned 1, 2, ...
pub struct BtfWriter {
    types: Vec<u8>,
    strings: Vec<u8>,
    next_id: u32,
}

impl Default for BtfWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl BtfWriter {
    /// An empty BTF: no types, string section "\0".
    pub fn new() -> Self {
        BtfWriter {
            types: Vec::new(),
            strings: vec![0],
            next_id: 1,
        }
    }

    /// Add a string (no dedup), return its offset; "" is offset 0.
    pub fn str(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        off
    }

    /// Append a raw u32 to the type section (for trailing records and for broken input).
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.types.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Append a 12-byte type header and return the new id.
    pub fn header(
        &mut self,
        name_off: u32,
        kind: u32,
        vlen: u32,
        kflag: bool,
        size_or_type: u32,
    ) -> u32 {
        let info = (u32::from(kflag) << 31) | (kind << 24) | vlen;
        self.u32(name_off).u32(info).u32(size_or_type);
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// INT of `size` bytes and `size*8` bits.
    pub fn int(&mut self, name: &str, size: u32, signed: bool) -> u32 {
        let n = self.str(name);
        let id = self.header(n, kind::INT, 0, false, size);
        self.u32((u32::from(signed) << 24) | (size * 8));
        id
    }

    /// PTR, TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG: a kind that only references a type.
    pub fn reference(&mut self, kind: u32, name: &str, target: u32) -> u32 {
        let n = self.str(name);
        self.header(n, kind, 0, false, target)
    }

    /// PTR to `target`.
    pub fn ptr(&mut self, target: u32) -> u32 {
        self.reference(kind::PTR, "", target)
    }

    /// ARRAY of `nelems` `elem`s indexed by `index`.
    pub fn array(&mut self, elem: u32, index: u32, nelems: u32) -> u32 {
        let id = self.header(0, kind::ARRAY, 0, false, 0);
        self.u32(elem).u32(index).u32(nelems);
        id
    }

    /// STRUCT (or UNION when `union`) with members; kflag is set when any member is a bitfield.
    pub fn composite(&mut self, union: bool, name: &str, size: u32, members: &[Member<'_>]) -> u32 {
        let n = self.str(name);
        let kflag = members.iter().any(|m| m.3 != 0);
        let k = if union { kind::UNION } else { kind::STRUCT };
        let names: Vec<u32> = members.iter().map(|m| self.str(m.0)).collect();
        let id = self.header(n, k, members.len() as u32, kflag, size);
        for (m, name_off) in members.iter().zip(names) {
            let offset = if kflag { (m.3 << 24) | m.2 } else { m.2 };
            self.u32(name_off).u32(m.1).u32(offset);
        }
        id
    }

    /// STRUCT with members.
    pub fn struct_(&mut self, name: &str, size: u32, members: &[Member<'_>]) -> u32 {
        self.composite(false, name, size, members)
    }

    /// UNION with members.
    pub fn union_(&mut self, name: &str, size: u32, members: &[Member<'_>]) -> u32 {
        self.composite(true, name, size, members)
    }

    /// ENUM of 4 bytes.
    pub fn enum_(&mut self, name: &str, values: &[(&str, i32)]) -> u32 {
        let n = self.str(name);
        let names: Vec<u32> = values.iter().map(|v| self.str(v.0)).collect();
        let id = self.header(n, kind::ENUM, values.len() as u32, false, 4);
        for (v, name_off) in values.iter().zip(names) {
            self.u32(name_off).u32(v.1 as u32);
        }
        id
    }

    /// ENUM64 of 8 bytes.
    pub fn enum64(&mut self, name: &str, values: &[(&str, u64)]) -> u32 {
        let n = self.str(name);
        let names: Vec<u32> = values.iter().map(|v| self.str(v.0)).collect();
        let id = self.header(n, kind::ENUM64, values.len() as u32, false, 8);
        for (v, name_off) in values.iter().zip(names) {
            self.u32(name_off).u32(v.1 as u32).u32((v.1 >> 32) as u32);
        }
        id
    }

    /// The id the next added type gets.
    pub fn next_id(&self) -> u32 {
        self.next_id
    }

    /// The type section so far.
    pub fn type_bytes(&self) -> &[u8] {
        &self.types
    }

    /// The string section so far.
    pub fn string_bytes(&self) -> &[u8] {
        &self.strings
    }

    /// A complete little-endian raw BTF blob with a standard 24-byte header.
    pub fn finish(&self) -> Vec<u8> {
        assemble(
            &Header::standard(self.types.len(), self.strings.len()),
            &self.types,
            &self.strings,
        )
    }
}

/// The BTF header fields, so tests can write inconsistent ones.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    pub magic: u16,
    pub version: u8,
    pub flags: u8,
    pub hdr_len: u32,
    pub type_off: u32,
    pub type_len: u32,
    pub str_off: u32,
    pub str_len: u32,
}

impl Header {
    /// The header a correct writer produces for these section sizes.
    pub fn standard(type_len: usize, str_len: usize) -> Header {
        Header {
            magic: 0xEB9F,
            version: 1,
            flags: 0,
            hdr_len: 24,
            type_off: 0,
            type_len: type_len as u32,
            str_off: type_len as u32,
            str_len: str_len as u32,
        }
    }

    /// The 24 header bytes, little-endian.
    pub fn to_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24);
        out.extend_from_slice(&self.magic.to_le_bytes());
        out.push(self.version);
        out.push(self.flags);
        for v in [
            self.hdr_len,
            self.type_off,
            self.type_len,
            self.str_off,
            self.str_len,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }
}

/// Header, then types, then strings, back to back (whatever the header claims).
pub fn assemble(header: &Header, types: &[u8], strings: &[u8]) -> Vec<u8> {
    let mut out = header.to_bytes();
    out.extend_from_slice(types);
    out.extend_from_slice(strings);
    out
}

/// Convert a little-endian raw BTF blob made by [`BtfWriter`] to big-endian (every field of it
/// is a u32 except the header's magic/version/flags and nothing else), for endianness tests.
pub fn to_big_endian(le: &[u8]) -> Option<Vec<u8>> {
    let hdr_len = u32::from_le_bytes(le.get(4..8)?.try_into().ok()?) as usize;
    let type_len = u32::from_le_bytes(le.get(12..16)?.try_into().ok()?) as usize;
    let mut out = Vec::with_capacity(le.len());
    out.extend_from_slice(&0xEB9Fu16.to_be_bytes());
    out.extend_from_slice(le.get(2..4)?);
    for chunk in le.get(4..hdr_len + type_len)?.chunks(4) {
        let v = u32::from_le_bytes(chunk.try_into().ok()?);
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(le.get(hdr_len + type_len..)?);
    Some(out)
}
