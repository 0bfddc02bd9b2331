//! Global variables as command-line options: `const volatile pid_t
//! target_pid` becomes `--target-pid <N>`, typed from BTF, with help and
//! defaults from the package's doc comments (`description`, ecc's `cmdarg`).
//!
//! Values are converted to the variable's bytes while clap parses them, so a
//! bad value is a usage error (exit 2) naming the option, the value and the
//! accepted range.

use crate::globals::{Global, GlobalKind};
use bundle::package::{Meta, Value};
use clap::{Arg, ArgAction, ArgMatches, Command};

/// Prefix added to a generated option whose name clashes with a launcher
/// option (`--json` → `--var-json`).
pub const CLASH_PREFIX: &str = "var-";
const ID_SET: &str = "global:";
const ID_UNSET: &str = "global-no:";

/// A global variable offered as an option.
#[derive(Debug, Clone)]
pub struct GlobalOption {
    /// The variable.
    pub global: Global,
    /// Long option name without `--`.
    pub long: String,
    /// Optional one-letter option.
    pub short: Option<char>,
    /// Help text.
    pub help: String,
    /// The value used when the option is not given: ecc's `cmdarg.default`
    /// when present and valid (else the object's initial value is kept).
    pub default: Option<Vec<u8>>,
}

/// Bytes to write into a global before the object is loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// Variable name (for messages).
    pub name: String,
    /// ELF section of the variable (`.rodata`, ...).
    pub section: String,
    /// Offset in the section.
    pub offset: usize,
    /// The new bytes.
    pub bytes: Vec<u8>,
}

impl Assignment {
    /// `bytes` for global `g`.
    fn of(g: &Global, bytes: Vec<u8>) -> Assignment {
        Assignment {
            name: g.name.clone(),
            section: g.section.clone(),
            offset: g.offset,
            bytes,
        }
    }
}

/// The options for `globals`, named and documented from `meta`, avoiding the
/// long and short names already taken by `cmd`.
pub fn global_options(globals: Vec<Global>, meta: &Meta, cmd: &Command) -> Vec<GlobalOption> {
    let mut taken_long: Vec<String> = vec!["help".into(), "version".into()];
    let mut taken_short: Vec<char> = vec!['h', 'V'];
    for a in cmd.get_arguments() {
        taken_long.extend(a.get_long().map(str::to_string));
        taken_long.extend(
            a.get_all_aliases()
                .into_iter()
                .flatten()
                .map(str::to_string),
        );
        taken_short.extend(a.get_short());
    }
    let mut out = Vec::new();
    for global in globals {
        let doc = VarDoc::find(meta, &global);
        // ecc's cmdarg.long when it is a usable option name.
        let mut long = doc
            .cmdarg_str("long")
            .filter(|l| {
                !l.starts_with('-')
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })
            .map_or_else(|| global.name.replace('_', "-"), str::to_string);
        let bool_names = |l: &str| {
            [
                l.to_string(),
                format!("no-{l}"),
                format!("enable-{l}"),
                format!("disable-{l}"),
            ]
        };
        let clashes = |l: &str, taken: &[String]| {
            let names = if matches!(global.kind, GlobalKind::Bool { .. }) {
                bool_names(l).to_vec()
            } else {
                vec![l.to_string()]
            };
            names.iter().any(|n| taken.contains(n))
        };
        if clashes(&long, &taken_long) {
            long = format!("{CLASH_PREFIX}{long}");
        }
        if clashes(&long, &taken_long) {
            // Still taken (two variables with one name in different sections).
            long = format!("{long}{}", global.section.replace('.', "-"));
        }
        let short = doc
            .cmdarg_str("short")
            .and_then(|s| {
                let mut chars = s.chars();
                let c = chars.next()?;
                chars.next().is_none().then_some(c)
            })
            .filter(|c| c.is_ascii_alphanumeric() && !taken_short.contains(c));
        let default = doc.default_bytes(&global.kind);
        if matches!(global.kind, GlobalKind::Bool { .. }) {
            taken_long.extend(bool_names(&long));
        } else {
            taken_long.push(long.clone());
        }
        taken_short.extend(short);
        let help = help_text(&global, &doc, default.as_deref(), &long);
        out.push(GlobalOption {
            global,
            long,
            short,
            help,
            default,
        });
    }
    out
}

/// Whether any variable of the package has an ecc `cmdarg.default`: only
/// then does a command line without options assign globals.
pub fn has_cmdarg_defaults(meta: &Meta) -> bool {
    meta.bpf_skel
        .data_sections
        .iter()
        .flat_map(|s| s.variables.iter())
        .any(|v| v.cmdarg().is_some_and(|c| c.contains_key("default")))
}

/// What [`assignments`] gives for a command line without options: each
/// global's valid `cmdarg.default`, found without building the options.
pub fn default_assignments(globals: &[Global], meta: &Meta) -> Vec<Assignment> {
    globals
        .iter()
        .filter_map(|g| {
            VarDoc::find(meta, g)
                .default_bytes(&g.kind)
                .map(|bytes| Assignment::of(g, bytes))
        })
        .collect()
}

/// Adds the options to `cmd`, under a "Program options" heading.
pub fn add_to(mut cmd: Command, options: &[GlobalOption]) -> Command {
    for opt in options {
        let g = &opt.global;
        let set_id = format!("{ID_SET}{}", g.name);
        if let GlobalKind::Bool { .. } = g.kind {
            let unset_id = format!("{ID_UNSET}{}", g.name);
            let on_by_default = effective_default(opt).iter().any(|b| *b != 0);
            let mut on = Arg::new(set_id.clone())
                .long(opt.long.clone())
                .action(ArgAction::SetTrue)
                .overrides_with(unset_id.clone())
                .alias(format!("enable-{}", opt.long))
                .help(opt.help.clone())
                .hide(on_by_default);
            if let Some(c) = opt.short {
                on = on.short(c);
            }
            let off = Arg::new(unset_id)
                .long(format!("no-{}", opt.long))
                .action(ArgAction::SetTrue)
                .overrides_with(set_id)
                .alias(format!("disable-{}", opt.long))
                .help(opt.help.clone())
                .hide(!on_by_default);
            cmd = cmd.arg(on).arg(off);
            continue;
        }
        let kind = g.kind.clone();
        let mut arg = Arg::new(set_id)
            .long(opt.long.clone())
            .value_name(value_name(&g.kind))
            .action(ArgAction::Set)
            .allow_negative_numbers(true)
            .value_parser(move |s: &str| parse_value(&kind, s))
            .help(opt.help.clone());
        if let Some(c) = opt.short {
            arg = arg.short(c);
        }
        cmd = cmd.arg(arg);
    }
    if !options.is_empty() {
        cmd = cmd.next_help_heading(None::<&str>);
    }
    cmd
}

/// The bytes to write for every option that was given or has a `cmdarg`
/// default.
pub fn assignments(matches: &ArgMatches, options: &[GlobalOption]) -> Vec<Assignment> {
    let mut out = Vec::new();
    for opt in options {
        let g = &opt.global;
        let set_id = format!("{ID_SET}{}", g.name);
        let given: Option<Vec<u8>> = match g.kind {
            GlobalKind::Bool { size } => {
                let unset_id = format!("{ID_UNSET}{}", g.name);
                if matches.get_flag(&set_id) {
                    Some(int_bytes(1, size))
                } else if matches.get_flag(&unset_id) {
                    Some(int_bytes(0, size))
                } else {
                    None
                }
            }
            _ => matches.get_one::<Vec<u8>>(&set_id).cloned(),
        };
        if let Some(bytes) = given.or_else(|| opt.default.clone()) {
            out.push(Assignment::of(g, bytes));
        }
    }
    out
}

fn effective_default(opt: &GlobalOption) -> &[u8] {
    opt.default.as_deref().unwrap_or(&opt.global.initial)
}

/// The variable's doc from `meta.bpf_skel.data_sections` (ecc/packer).
struct VarDoc<'a> {
    description: Option<&'a str>,
    cmdarg: Option<&'a serde_json::Map<String, Value>>,
}

impl<'a> VarDoc<'a> {
    fn find(meta: &'a Meta, g: &Global) -> VarDoc<'a> {
        let sections = &meta.bpf_skel.data_sections;
        let var = sections
            .iter()
            .filter(|s| s.name == g.section)
            .chain(sections.iter().filter(|s| s.name != g.section))
            .flat_map(|s| s.variables.iter())
            .find(|v| v.name == g.name);
        VarDoc {
            description: var.and_then(|v| v.description()),
            cmdarg: var.and_then(|v| v.cmdarg()),
        }
    }

    /// The bytes of ecc's `cmdarg.default` for a variable of this kind,
    /// when present and valid.
    fn default_bytes(&self, kind: &GlobalKind) -> Option<Vec<u8>> {
        self.cmdarg
            .and_then(|c| c.get("default"))
            .and_then(|d| default_bytes(kind, d))
    }

    fn cmdarg_str(&self, key: &str) -> Option<&'a str> {
        self.cmdarg
            .and_then(|c| c.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

fn help_text(g: &Global, doc: &VarDoc<'_>, default: Option<&[u8]>, long: &str) -> String {
    let text = doc
        .cmdarg_str("help")
        .or(doc.description)
        .map(|s| s.trim().trim_end_matches('.').to_string())
        .unwrap_or_else(|| format!("Set {}", g.name));
    let value = default.unwrap_or(&g.initial);
    let mut default = display_value(&g.kind, value);
    if let GlobalKind::Bool { .. } = g.kind {
        default = if value.iter().any(|b| *b != 0) {
            format!("on; --no-{long} turns it off")
        } else {
            format!("off; --{long} turns it on")
        };
    }
    let mut extra = vec![format!("{} {}", g.section, g.c_type)];
    if let GlobalKind::Enum { values, .. } = &g.kind {
        let names: Vec<&str> = values.iter().map(|(n, _)| n.as_str()).collect();
        extra.push(format!("one of {}", names.join(", ")));
    }
    if let GlobalKind::Chars { len } = g.kind {
        extra.push(format!("at most {} bytes", len.saturating_sub(1)));
    }
    format!("{text} [{}; default: {default}]", extra.join("; "))
}

fn value_name(kind: &GlobalKind) -> &'static str {
    match kind {
        GlobalKind::Int { .. } => "N",
        GlobalKind::Float { .. } => "NUM",
        GlobalKind::Chars { .. } => "STR",
        GlobalKind::Enum { .. } => "NAME",
        GlobalKind::Bool { .. } => "BOOL",
    }
}

fn int_bytes(v: i128, size: u32) -> Vec<u8> {
    v.to_le_bytes()
        .iter()
        .take(size.min(16) as usize)
        .copied()
        .collect()
}

fn int_range(size: u32, signed: bool) -> (i128, i128) {
    let bits = size.min(16) * 8;
    match (signed, bits) {
        (true, 128) => (i128::MIN, i128::MAX),
        // u128 values above i128::MAX are not representable; refuse them.
        (false, 128) => (0, i128::MAX),
        (true, b) => (-(1i128 << (b - 1)), (1i128 << (b - 1)) - 1),
        (false, b) => (0, (1i128 << b) - 1),
    }
}

fn parse_int(s: &str) -> Option<i128> {
    let t = s.trim().replace('_', "");
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, t.strip_prefix('+').unwrap_or(&t).to_string()),
    };
    let magnitude = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        i128::from_str_radix(hex, 16).ok()?
    } else {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<i128>().ok()?
    };
    Some(if neg { -magnitude } else { magnitude })
}

fn checked_int(s: &str, size: u32, signed: bool, what: &str) -> Result<Vec<u8>, String> {
    let (lo, hi) = int_range(size, signed);
    let v = parse_int(s).ok_or_else(|| {
        format!("'{s}' is not an integer (decimal or 0x hex) for {what} ({lo}..={hi})")
    })?;
    if v < lo || v > hi {
        return Err(format!("{v} is out of range for {what}: {lo}..={hi}"));
    }
    Ok(int_bytes(v, size))
}

/// Converts a command-line value to the variable's bytes.
pub fn parse_value(kind: &GlobalKind, s: &str) -> Result<Vec<u8>, String> {
    match kind {
        GlobalKind::Int { size, signed } => {
            let what = format!(
                "a {}-bit {} integer",
                size * 8,
                if *signed { "signed" } else { "unsigned" }
            );
            checked_int(s, *size, *signed, &what)
        }
        GlobalKind::Bool { size } => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(int_bytes(1, *size)),
            "0" | "false" | "no" | "off" => Ok(int_bytes(0, *size)),
            _ => Err(format!("'{s}' is not a boolean (true/false)")),
        },
        GlobalKind::Float { size } => {
            let v: f64 = s
                .trim()
                .parse()
                .map_err(|_| format!("'{s}' is not a number"))?;
            Ok(if *size == 4 {
                (v as f32).to_le_bytes().to_vec()
            } else {
                v.to_le_bytes().to_vec()
            })
        }
        GlobalKind::Chars { len } => {
            let max = len.saturating_sub(1) as usize;
            if s.len() > max {
                return Err(format!(
                    "'{s}' is {} bytes long; this char[{len}] holds at most {max} bytes (plus the NUL)",
                    s.len()
                ));
            }
            let mut bytes = s.as_bytes().to_vec();
            bytes.resize(*len as usize, 0);
            Ok(bytes)
        }
        GlobalKind::Enum {
            type_name,
            size,
            values,
            ..
        } => {
            let named = values
                .iter()
                .find(|(n, _)| n == s)
                .or_else(|| values.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)));
            if let Some((_, v)) = named {
                return Ok(int_bytes(*v, *size));
            }
            let names: Vec<&str> = values.iter().map(|(n, _)| n.as_str()).collect();
            if let Some(v) = parse_int(s) {
                // Compilers differ on marking enums signed: take either
                // reading of the bits.
                let (lo, _) = int_range(*size, true);
                let (_, hi) = int_range(*size, false);
                if v < lo || v > hi {
                    return Err(format!(
                        "{v} is out of range for enum {type_name} ({} bytes): {lo}..={hi}",
                        size
                    ));
                }
                return Ok(int_bytes(v, *size));
            }
            Err(format!(
                "'{s}' is not a value of enum {type_name}; use one of {} (or a number)",
                names.join(", ")
            ))
        }
    }
}

/// How a value is shown in help (`42`, `"bash"`, `UNIT_KIB(1)`, `on`).
pub fn display_value(kind: &GlobalKind, bytes: &[u8]) -> String {
    let raw = bytes
        .iter()
        .take(16)
        .enumerate()
        .fold(0u128, |acc, (i, b)| acc | (u128::from(*b) << (8 * i)));
    let signed = |size: u32| -> i128 {
        let bits = size.min(16) * 8;
        if bits >= 128 {
            raw as i128
        } else {
            let sh = 128 - bits;
            ((raw << sh) as i128) >> sh
        }
    };
    match kind {
        GlobalKind::Int { size, signed: true } => signed(*size).to_string(),
        GlobalKind::Int { .. } => raw.to_string(),
        GlobalKind::Bool { .. } => if raw != 0 { "on" } else { "off" }.to_string(),
        GlobalKind::Float { size: 4 } => f32::from_bits(raw as u32).to_string(),
        GlobalKind::Float { .. } => f64::from_bits(raw as u64).to_string(),
        GlobalKind::Chars { .. } => {
            let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
            format!(
                "{:?}",
                String::from_utf8_lossy(bytes.get(..end).unwrap_or(&[]))
            )
        }
        GlobalKind::Enum {
            size,
            signed: is_signed,
            values,
            ..
        } => {
            let v = if *is_signed {
                signed(*size)
            } else {
                raw as i128
            };
            match values.iter().find(|(_, x)| *x == v) {
                Some((n, _)) => n.clone(),
                None => v.to_string(),
            }
        }
    }
}

/// `cmdarg.default` (a JSON number, string or bool) as bytes, if valid.
fn default_bytes(kind: &GlobalKind, d: &Value) -> Option<Vec<u8>> {
    let text = match d {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    parse_value(kind, &text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(size: u32, signed: bool) -> GlobalKind {
        GlobalKind::Int { size, signed }
    }

    #[test]
    fn integers_of_every_width_are_range_checked() {
        assert_eq!(parse_value(&int(1, true), "-128").unwrap(), vec![0x80]);
        assert!(parse_value(&int(1, true), "128").is_err());
        assert_eq!(parse_value(&int(1, false), "255").unwrap(), vec![0xff]);
        assert!(parse_value(&int(1, false), "-1").is_err());
        assert_eq!(
            parse_value(&int(2, false), "0x1234").unwrap(),
            vec![0x34, 0x12]
        );
        assert_eq!(
            parse_value(&int(4, true), "-2").unwrap(),
            (-2i32).to_le_bytes().to_vec()
        );
        let e = parse_value(&int(4, true), "99999999999").unwrap_err();
        assert!(
            e.contains("out of range") && e.contains("2147483647"),
            "{e}"
        );
        assert_eq!(
            parse_value(&int(8, false), "18446744073709551615").unwrap(),
            vec![0xff; 8]
        );
        assert!(parse_value(&int(8, false), "18446744073709551616").is_err());
        assert!(parse_value(&int(4, true), "0x-5").is_err());
        assert!(parse_value(&int(8, true), "12abc")
            .unwrap_err()
            .contains("not an integer"));
        assert_eq!(parse_value(&int(16, true), "-1").unwrap(), vec![0xff; 16]);
    }

    fn global(name: &str, kind: GlobalKind, initial: Vec<u8>) -> Global {
        Global {
            name: name.into(),
            section: ".rodata".into(),
            offset: 8,
            size: initial.len(),
            c_type: "x".into(),
            kind,
            initial,
        }
    }

    fn parse(
        opts: &[GlobalOption],
        cmd: Command,
        args: &[&str],
    ) -> Result<Vec<Assignment>, clap::Error> {
        let m = add_to(cmd, opts).try_get_matches_from(args)?;
        Ok(assignments(&m, opts))
    }

    #[test]
    fn clashing_names_get_a_prefix_and_shorts_are_dropped() {
        let cmd = Command::new("t")
            .arg(
                Arg::new("json")
                    .long("json")
                    .short('j')
                    .action(ArgAction::SetTrue),
            )
            .arg(
                Arg::new("verbose")
                    .long("verbose")
                    .action(ArgAction::SetTrue),
            );
        let mut meta = Meta::new("t_bpf");
        meta.bpf_skel.data_sections = serde_json::from_value(serde_json::json!([
            {"name": ".rodata", "variables": [
                {"name": "json", "type": "int", "cmdarg": {"short": "j", "help": "Clashes"}},
                {"name": "target_pid", "type": "int", "cmdarg": {"long": "pid", "short": "p", "default": 7}}
            ]}]))
        .unwrap();
        let globals = vec![
            global("json", int(4, true), vec![0; 4]),
            global("verbose", GlobalKind::Bool { size: 1 }, vec![1]),
            global("target_pid", int(4, true), vec![0; 4]),
        ];
        let opts = global_options(globals, &meta, &cmd);
        let names: Vec<(&str, Option<char>)> =
            opts.iter().map(|o| (o.long.as_str(), o.short)).collect();
        assert_eq!(
            names,
            vec![
                ("var-json", None),
                ("var-verbose", None),
                ("pid", Some('p'))
            ]
        );
        assert!(opts[0].help.starts_with("Clashes ["), "{}", opts[0].help);

        // Defaults from cmdarg are written even when the option is absent.
        let none = parse(&opts, cmd.clone(), &["t", "--json"]).unwrap();
        assert_eq!(none.len(), 1);
        assert_eq!(
            (none[0].name.as_str(), none[0].bytes.clone()),
            ("target_pid", vec![7, 0, 0, 0])
        );
        let all = parse(
            &opts,
            cmd.clone(),
            &["t", "--var-json", "-3", "--no-var-verbose", "-p", "9"],
        )
        .unwrap();
        let bytes: Vec<Vec<u8>> = all.iter().map(|a| a.bytes.clone()).collect();
        assert_eq!(
            bytes,
            vec![(-3i32).to_le_bytes().to_vec(), vec![0], vec![9, 0, 0, 0]]
        );
        assert_eq!(all[0].offset, 8);
        // The ecli spellings of bool flags are accepted too.
        let ecli = parse(&opts, cmd.clone(), &["t", "--disable-var-verbose"]).unwrap();
        assert!(ecli
            .iter()
            .any(|a| a.name == "verbose" && a.bytes == vec![0]));
        let err = parse(&opts, cmd.clone(), &["t", "--pid", "x"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);

        // Without options: the same as clap gives, found without clap.
        let globals: Vec<Global> = opts.iter().map(|o| o.global.clone()).collect();
        assert!(has_cmdarg_defaults(&meta));
        assert_eq!(
            default_assignments(&globals, &meta),
            parse(&opts, cmd, &["t"]).unwrap()
        );
        assert!(!has_cmdarg_defaults(&Meta::new("t_bpf")));
        assert!(default_assignments(&globals, &Meta::new("t_bpf")).is_empty());
    }

    #[test]
    fn bool_aliases_are_reserved_and_bad_cmdarg_names_ignored() {
        let mut meta = Meta::new("t_bpf");
        meta.bpf_skel.data_sections = serde_json::from_value(serde_json::json!([
        {"name": ".rodata", "variables": [
            {"name": "n", "type": "int", "cmdarg": {"long": "bad name"}}
        ]}]))
        .unwrap();
        let globals = vec![
            global("x", GlobalKind::Bool { size: 1 }, vec![0]),
            global("enable_x", int(4, true), vec![0; 4]),
            global("n", int(4, true), vec![0; 4]),
        ];
        let cmd = Command::new("t");
        let opts = global_options(globals, &meta, &cmd);
        let names: Vec<&str> = opts.iter().map(|o| o.long.as_str()).collect();
        assert_eq!(names, vec!["x", "var-enable-x", "n"]);
        assert!(
            opts[0].help.contains("default: off; --x turns it on"),
            "{}",
            opts[0].help
        );
        let set = parse(&opts, cmd, &["t", "--enable-x", "--var-enable-x", "5"]).unwrap();
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn strings_enums_bools_floats() {
        let chars = GlobalKind::Chars { len: 4 };
        assert_eq!(parse_value(&chars, "sh").unwrap(), b"sh\0\0".to_vec());
        assert!(parse_value(&chars, "bash")
            .unwrap_err()
            .contains("at most 3"));
        let e = GlobalKind::Enum {
            type_name: "unit".into(),
            size: 4,
            signed: false,
            values: vec![("UNIT_BYTES".into(), 0), ("UNIT_KIB".into(), 1)],
        };
        assert_eq!(parse_value(&e, "UNIT_KIB").unwrap(), vec![1, 0, 0, 0]);
        assert_eq!(parse_value(&e, "unit_kib").unwrap(), vec![1, 0, 0, 0]);
        assert_eq!(parse_value(&e, "7").unwrap(), vec![7, 0, 0, 0]);
        assert_eq!(parse_value(&e, "-1").unwrap(), vec![0xff; 4]);
        assert!(parse_value(&e, "4294967296")
            .unwrap_err()
            .contains("out of range"));
        assert!(parse_value(&e, "MIB")
            .unwrap_err()
            .contains("UNIT_BYTES, UNIT_KIB"));
        assert_eq!(display_value(&e, &[1, 0, 0, 0]), "UNIT_KIB");
        let b = GlobalKind::Bool { size: 1 };
        assert_eq!(parse_value(&b, "true").unwrap(), vec![1]);
        assert_eq!(display_value(&b, &[0]), "off");
        let f = GlobalKind::Float { size: 8 };
        assert_eq!(
            parse_value(&f, "1.5").unwrap(),
            1.5f64.to_le_bytes().to_vec()
        );
        assert_eq!(
            display_value(&GlobalKind::Chars { len: 4 }, b"ab\0\0"),
            "\"ab\""
        );
        assert_eq!(display_value(&int(4, true), &(-5i32).to_le_bytes()), "-5");
    }
}
