//! CO-RE matching with libbpf's semantics (ports of `relo_core.c`), producing target specs.

pub(crate) mod candidates;
pub(crate) mod compat;
pub(crate) mod relo;
pub(crate) mod spec;

/// CO-RE relocation kinds (`enum bpf_core_relo_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
#[allow(missing_docs)]
pub enum ReloKind {
    FieldByteOffset = 0,
    FieldByteSize = 1,
    FieldExists = 2,
    FieldSigned = 3,
    FieldLshiftU64 = 4,
    FieldRshiftU64 = 5,
    TypeIdLocal = 6,
    TypeIdTarget = 7,
    TypeExists = 8,
    TypeSize = 9,
    EnumvalExists = 10,
    EnumvalValue = 11,
    TypeMatches = 12,
}

impl ReloKind {
    /// Converts the raw record value.
    pub fn from_raw(v: u32) -> Option<ReloKind> {
        use ReloKind::*;
        Some(match v {
            0 => FieldByteOffset,
            1 => FieldByteSize,
            2 => FieldExists,
            3 => FieldSigned,
            4 => FieldLshiftU64,
            5 => FieldRshiftU64,
            6 => TypeIdLocal,
            7 => TypeIdTarget,
            8 => TypeExists,
            9 => TypeSize,
            10 => EnumvalExists,
            11 => EnumvalValue,
            12 => TypeMatches,
            _ => return None,
        })
    }

    /// libbpf's name (`core_relo_kind_str`).
    pub fn name(self) -> &'static str {
        use ReloKind::*;
        match self {
            FieldByteOffset => "byte_off",
            FieldByteSize => "byte_sz",
            FieldExists => "field_exists",
            FieldSigned => "signed",
            FieldLshiftU64 => "lshift_u64",
            FieldRshiftU64 => "rshift_u64",
            TypeIdLocal => "local_type_id",
            TypeIdTarget => "target_type_id",
            TypeExists => "type_exists",
            TypeMatches => "type_matches",
            TypeSize => "type_size",
            EnumvalExists => "enumval_exists",
            EnumvalValue => "enumval_value",
        }
    }

    /// `core_relo_is_field_based`.
    pub fn is_field_based(self) -> bool {
        (self as u32) <= 5
    }

    /// `core_relo_is_type_based`.
    pub fn is_type_based(self) -> bool {
        matches!(
            self,
            ReloKind::TypeIdLocal
                | ReloKind::TypeIdTarget
                | ReloKind::TypeExists
                | ReloKind::TypeSize
                | ReloKind::TypeMatches
        )
    }

    /// `core_relo_is_enumval_based`.
    pub fn is_enumval_based(self) -> bool {
        matches!(self, ReloKind::EnumvalExists | ReloKind::EnumvalValue)
    }
}

impl std::fmt::Display for ReloKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests;
