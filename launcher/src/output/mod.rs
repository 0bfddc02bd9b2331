//! Turning decoded events into text: one JSON object per line, or an
//! ecli-style aligned table.

mod clock;
pub mod json;
pub mod table;

pub use clock::local_hms;
