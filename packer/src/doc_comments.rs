//! `///` doc comments of a BPF C source, attached to the package metadata
//! the way `ecc` does it (eunomia's document parser), with a line scanner
//! instead of libclang:
//!
//! - on a global variable → its `data_sections[].variables[]` entry;
//! - on a map definition (`struct { ... } NAME SEC(".maps");`) → its `maps[]`
//!   entry (`@sample {...}` becomes the map's `sample`);
//! - on a program (`SEC("...") int NAME(...)`) → its `progs[]` entry;
//! - on `char LICENSE[] SEC("license")` → `bpf_skel.doc`.
//!
//! Plain text becomes `description`; `@brief`, `@details` and `@version`
//! become strings; any other `@key text` sets `key` to `text` parsed as JSON,
//! or to the text itself when it is not JSON (e.g. `@cmdarg {"short": "p"}`).

use std::collections::BTreeMap;

use bundle::package::{Map, Meta, Value};

/// Where a doc comment was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// A global variable.
    Variable(String),
    /// A BTF-defined map.
    Map(String),
    /// A BPF program (function).
    Prog(String),
    /// `char LICENSE[]`: the package's own doc.
    License,
}

/// Every documented declaration of a source file.
pub type Docs = BTreeMap<Target, Map<String, Value>>;

/// Block commands whose text is kept as a string.
const STRING_COMMANDS: [&str; 3] = ["brief", "details", "version"];

/// Parses the `///` comments of `source`.
pub fn parse(source: &str) -> Docs {
    let lines: Vec<&str> = source.lines().collect();
    let mut docs = Docs::new();
    let mut i = 0;
    while i < lines.len() {
        let mut comment = Vec::new();
        while let Some(text) = lines
            .get(i)
            .and_then(|l| l.trim_start().strip_prefix("///"))
        {
            comment.push(text.strip_prefix(' ').unwrap_or(text));
            i += 1;
        }
        let mut same_line = "";
        if comment.is_empty() {
            (i, same_line) = block_comment(&lines, i, &mut comment);
        }
        if comment.is_empty() {
            i += 1;
            continue;
        }
        let (decl, next) = if same_line.trim().is_empty() {
            declaration(&lines, i)
        } else {
            // `/** doc */ int x;`: the declaration starts after the comment.
            let mut rest = vec![same_line];
            rest.extend(lines.get(i..).unwrap_or(&[]));
            let (decl, used) = declaration(&rest, 0);
            (decl, i + used.saturating_sub(1))
        };
        i = next.max(i + 1);
        if let Some(target) = target_of(&decl) {
            let fields = fields(&comment);
            if !fields.is_empty() {
                docs.insert(target, fields);
            }
        }
    }
    docs
}

/// A `/** ... */` doc comment starting at line `i`: its lines (without the
/// comment markers and leading `*`) go to `comment`; returns the line after
/// it (`i` when there is none) and the code after `*/` on its last line.
fn block_comment<'a>(lines: &[&'a str], i: usize, comment: &mut Vec<&'a str>) -> (usize, &'a str) {
    let Some(first) = lines
        .get(i)
        .and_then(|l| l.trim_start().strip_prefix("/**"))
        .filter(|rest| !rest.starts_with('*') && !rest.starts_with('/'))
    else {
        return (i, "");
    };
    let mut j = i;
    let mut text = first;
    loop {
        let (body, end) = match text.find("*/") {
            Some(p) => (text.get(..p).unwrap_or(""), text.get(p + 2..)),
            None => (text, None),
        };
        let body = body.trim();
        let body = body.strip_prefix('*').unwrap_or(body).trim();
        if !body.is_empty() {
            comment.push(body);
        }
        j += 1;
        if let Some(rest) = end {
            return (j, rest);
        }
        match lines.get(j) {
            Some(next) => text = next,
            None => return (j, ""),
        }
    }
}

/// The declaration starting at line `start` (blank lines skipped): text up
/// to the `;` or `{` that ends it at brace depth 0, or through the closing
/// `};` of an anonymous `struct { ... } name SEC(...);`. Returns it and the
/// line after it.
fn declaration(lines: &[&str], mut start: usize) -> (String, usize) {
    while lines.get(start).is_some_and(|l| l.trim().is_empty()) {
        start += 1;
    }
    let mut text = String::new();
    let mut depth = 0i32;
    let anonymous_struct = lines
        .get(start)
        .is_some_and(|l| l.trim().replace(' ', "").starts_with("struct{"));
    let mut i = start;
    while let Some(line) = lines.get(i) {
        let code = line.split("//").next().unwrap_or("");
        i += 1;
        for c in code.chars() {
            match c {
                '{' => {
                    depth += 1;
                    if depth == 1 && !anonymous_struct {
                        return (text, i);
                    }
                }
                '}' => depth -= 1,
                ';' if depth <= 0 => return (text, i),
                _ => {}
            }
            if depth <= 0 {
                text.push(c);
            }
        }
        text.push(' ');
        if i - start > 64 {
            break;
        }
    }
    (text, i)
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The last identifier in `text`.
fn last_ident(text: &str) -> Option<String> {
    let trimmed = text.trim_end_matches(|c: char| !is_ident(c));
    let start = trimmed.rfind(|c: char| !is_ident(c)).map_or(0, |p| p + 1);
    let ident = trimmed.get(start..)?;
    (!ident.is_empty() && !ident.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| ident.to_string())
}

/// `text` without every `NAME(...)` call of `name` (e.g. `SEC("x")`).
fn without_call(text: &str, name: &str) -> String {
    let mut out = text.to_string();
    while let Some(p) = out.find(&format!("{name}(")) {
        let rest = out.get(p..).unwrap_or("");
        let end = rest.find(')').map_or(out.len(), |e| p + e + 1);
        out.replace_range(p..end, " ");
    }
    out
}

fn target_of(decl: &str) -> Option<Target> {
    let decl = decl.trim();
    let section = decl
        .find("SEC(\"")
        .and_then(|p| decl.get(p + 5..))
        .and_then(|rest| rest.split('"').next());
    match section {
        Some(".maps") => {
            let before = decl.get(..decl.find("SEC(")?)?;
            return last_ident(before).map(Target::Map);
        }
        Some("license") => return Some(Target::License),
        Some(_) if decl.starts_with("SEC(") => {
            let rest = without_call(decl, "SEC");
            let before_paren = rest.get(..rest.find('(')?)?;
            return last_ident(before_paren).map(Target::Prog);
        }
        _ => {}
    }
    // A function prototype or a type definition is not a variable.
    let code = without_call(decl, "SEC");
    let code = without_call(&code, "__attribute__");
    let code = code.split('=').next().unwrap_or("");
    if code.contains('(') {
        return None;
    }
    let words: Vec<&str> = code.split_whitespace().collect();
    if matches!(
        words.first(),
        Some(&("struct" | "union" | "enum" | "typedef"))
    ) && words.len() <= 2
    {
        return None;
    }
    let code = code.split('[').next().unwrap_or("");
    last_ident(code).map(Target::Variable)
}

/// The JSON fields of one comment block.
fn fields(comment: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    let mut description: Vec<String> = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    let flush = |out: &mut Map<String, Value>, cur: Option<(String, Vec<String>)>| {
        if let Some((key, text)) = cur {
            let text = text.join(" ").trim().to_string();
            let value = if STRING_COMMANDS.contains(&key.as_str()) {
                Value::String(text)
            } else {
                text.parse::<Value>().unwrap_or(Value::String(text))
            };
            out.insert(key, value);
        }
    };
    for line in comment {
        let line = line.trim();
        if let Some(cmd) = line.strip_prefix('@').or_else(|| line.strip_prefix('\\')) {
            let key: String = cmd.chars().take_while(|c| is_ident(*c)).collect();
            if !key.is_empty() {
                flush(&mut out, current.take());
                let text = cmd.get(key.len()..).unwrap_or("").trim().to_string();
                current = Some((key, vec![text]));
                continue;
            }
        }
        match &mut current {
            // @brief and @details continue on the next lines.
            Some((key, text)) if (key == "brief" || key == "details") && !line.is_empty() => {
                text.push(line.to_string());
            }
            _ => {
                flush(&mut out, current.take());
                if !line.is_empty() {
                    description.push(line.to_string());
                }
            }
        }
    }
    flush(&mut out, current.take());
    if !description.is_empty() {
        out.insert(
            "description".to_string(),
            Value::String(description.join(" ")),
        );
    }
    out
}

/// Adds the docs to `meta`: variables, maps (`sample` into its own field),
/// programs and the package doc. Returns the names of documented
/// declarations that the object does not have (for a warning).
pub fn apply(meta: &mut Meta, docs: &Docs) -> Vec<String> {
    let skel = &mut meta.bpf_skel;
    let mut unmatched = Vec::new();
    for (target, fields) in docs {
        match target {
            Target::License => {
                let doc = skel.doc.get_or_insert_with(Map::new);
                for (k, v) in fields {
                    doc.insert(k.clone(), v.clone());
                }
            }
            Target::Variable(name) => {
                let var = skel
                    .data_sections
                    .iter_mut()
                    .flat_map(|s| s.variables.iter_mut())
                    .find(|v| &v.name == name);
                match var {
                    Some(v) => v.extra.extend(fields.clone()),
                    None => unmatched.push(name.clone()),
                }
            }
            Target::Map(name) => match skel.maps.iter_mut().find(|m| &m.name == name) {
                Some(m) => {
                    for (k, v) in fields {
                        if k == "sample" {
                            m.sample = Some(v.clone());
                        } else {
                            m.extra.insert(k.clone(), v.clone());
                        }
                    }
                }
                None => unmatched.push(name.clone()),
            },
            Target::Prog(name) => match skel.progs.iter_mut().find(|p| &p.name == name) {
                Some(p) => p.extra.extend(fields.clone()),
                None => unmatched.push(name.clone()),
            },
        }
    }
    unmatched
}

#[cfg(test)]
mod tests {
    use super::*;
    use bundle::package::{DataSection, MapMeta, Variable};

    fn json(text: &str) -> Value {
        text.parse().unwrap()
    }

    const SOURCE: &str = r#"
/// The unit sizes are counted in
enum size_unit {
	UNIT_BYTES = 0,
};

/// Only count writes of this process
/// (0 = every process)
/// @cmdarg {"short": "p", "long": "pid"}
const volatile pid_t target_pid = 0;
/// Command name
const volatile char target_comm[TASK_COMM_LEN] = "";
/// @unit not json
__u64 counted = 0;

/// @sample {"interval": 1000, "type": "log2_hist", "unit": "bytes"}
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY); // one entry
	__type(value, struct hist);
} hists SEC(".maps");

/// Counts writes
SEC("tp/syscalls/sys_enter_write")
int handle_write(struct trace_event_raw_sys_enter *ctx)
{
	/// not a doc target
	return 0;
}

/// @brief Log2 histogram
///   of write sizes
/// @version 0.1.0
/// More words.
char LICENSE[] SEC("license") = "GPL";

/**
 * Block style
 * @cmdarg {"long": "bs"}
 */
const volatile int block_style = 1;
/** One line */ const volatile int one_line = 1;
/* not a doc comment */
const volatile int plain = 1;
"#;

    #[test]
    fn finds_every_kind_of_target() {
        let docs = parse(SOURCE);
        let var = |n: &str| docs.get(&Target::Variable(n.into())).cloned();
        assert_eq!(
            Value::Object(var("target_pid").unwrap()),
            json(
                r#"{"description": "Only count writes of this process (0 = every process)",
                   "cmdarg": {"short": "p", "long": "pid"}}"#
            )
        );
        assert_eq!(var("target_comm").unwrap()["description"], "Command name");
        assert_eq!(var("counted").unwrap()["unit"], "not json");
        assert_eq!(
            docs[&Target::Map("hists".into())]["sample"],
            json(r#"{"interval": 1000, "type": "log2_hist", "unit": "bytes"}"#)
        );
        assert_eq!(
            docs[&Target::Prog("handle_write".into())]["description"],
            "Counts writes"
        );
        let lic = &docs[&Target::License];
        assert_eq!(lic["brief"], "Log2 histogram of write sizes");
        assert_eq!(lic["version"], "0.1.0");
        assert_eq!(lic["description"], "More words.");
        assert!(!docs
            .keys()
            .any(|t| matches!(t, Target::Variable(n) if n == "size_unit" || n == "UNIT_BYTES")));
        assert_eq!(var("block_style").unwrap()["description"], "Block style");
        assert_eq!(var("block_style").unwrap()["cmdarg"]["long"], "bs");
        assert_eq!(var("one_line").unwrap()["description"], "One line");
        assert!(var("plain").is_none());
        assert_eq!(docs.len(), 8, "{docs:?}");
    }

    #[test]
    fn applies_to_meta() {
        let mut meta = Meta::new("w_bpf");
        meta.bpf_skel.maps.push(MapMeta {
            name: "hists".into(),
            ident: "hists".into(),
            mmaped: false,
            sample: None,
            extra: Map::new(),
        });
        meta.bpf_skel.data_sections.push(DataSection {
            name: ".rodata".into(),
            variables: vec![Variable {
                name: "target_pid".into(),
                ty: "pid_t".into(),
                size: None,
                offset: None,
                extra: Map::new(),
            }],
            extra: Map::new(),
        });
        let unmatched = apply(&mut meta, &parse(SOURCE));
        assert_eq!(
            unmatched,
            vec![
                "block_style",
                "counted",
                "one_line",
                "target_comm",
                "handle_write"
            ]
        );
        let skel = &meta.bpf_skel;
        assert_eq!(skel.maps[0].sample.as_ref().unwrap()["type"], "log2_hist");
        assert_eq!(
            skel.data_sections[0].variables[0].extra["cmdarg"]["short"],
            "p"
        );
        assert_eq!(skel.doc.as_ref().unwrap()["version"], "0.1.0");
    }
}
