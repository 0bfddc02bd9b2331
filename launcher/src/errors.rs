//! The launcher's failure type: an error chain plus the exit code it maps to.
//!
//! Exit codes are part of the user interface (README, team contract):
//! 0 ok · 1 other error · 2 usage error · 3 kernel not covered ·
//! 4 permission · 5 payload missing or corrupt · 6 libbpf open/load/attach failure.

use std::fmt;

/// What kind of failure happened; decides the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Anything not covered by a more specific kind (exit 1).
    Other,
    /// Bad command line (exit 2).
    Usage,
    /// No BTF for this kernel in the tool (exit 3).
    NotCovered,
    /// Not root and no CAP_BPF / CAP_SYS_ADMIN (exit 4).
    Permission,
    /// The payload or package is missing or corrupt (exit 5).
    Payload,
    /// libbpf could not open, load or attach the object (exit 6).
    Libbpf,
}

impl Kind {
    /// The process exit code for this kind of failure.
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Other => 1,
            Kind::Usage => 2,
            Kind::NotCovered => 3,
            Kind::Permission => 4,
            Kind::Payload => 5,
            Kind::Libbpf => 6,
        }
    }
}

/// An error with its exit-code classification.
#[derive(Debug)]
pub struct Failure {
    /// Classification, decides the exit code.
    pub kind: Kind,
    /// The error chain shown to the user.
    pub error: anyhow::Error,
}

impl Failure {
    /// A failure of `kind` with the message `msg`.
    pub fn new(kind: Kind, msg: impl fmt::Display) -> Self {
        Failure {
            kind,
            error: anyhow::anyhow!("{msg}"),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

/// Attach a [`Kind`] to any error result.
pub trait ResultExt<T> {
    /// Classify the error as `kind`, keeping its chain.
    fn kind(self, kind: Kind) -> Result<T, Failure>;
    /// Classify the error as `kind` and add a context line in front of it.
    fn kind_ctx<C: fmt::Display + Send + Sync + 'static>(
        self,
        kind: Kind,
        ctx: impl FnOnce() -> C,
    ) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> ResultExt<T> for Result<T, E> {
    fn kind(self, kind: Kind) -> Result<T, Failure> {
        self.map_err(|e| Failure {
            kind,
            error: e.into(),
        })
    }

    fn kind_ctx<C: fmt::Display + Send + Sync + 'static>(
        self,
        kind: Kind,
        ctx: impl FnOnce() -> C,
    ) -> Result<T, Failure> {
        self.map_err(|e| Failure {
            kind,
            error: e.into().context(ctx()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_match_the_contract() {
        let codes: Vec<i32> = [
            Kind::Other,
            Kind::Usage,
            Kind::NotCovered,
            Kind::Permission,
            Kind::Payload,
            Kind::Libbpf,
        ]
        .iter()
        .map(|k| k.exit_code())
        .collect();
        assert_eq!(codes, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn context_is_shown_before_the_cause() {
        let r: Result<(), std::io::Error> = Err(std::io::Error::other("boom"));
        let f = r.kind_ctx(Kind::Payload, || "reading x.json").unwrap_err();
        assert_eq!(f.kind, Kind::Payload);
        assert_eq!(f.to_string(), "reading x.json: boom");
    }
}
