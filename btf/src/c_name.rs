//! C spelling of a type (`"unsigned int"`, `"char[16]"`, `"struct event *"`, `"int (*)(int)"`).

use crate::btf::{Btf, MAX_RESOLVE_DEPTH};
use crate::types::Type;

/// The C spelling of type `id`; `"?"` stands in for ids out of range or chains too deep.
pub(crate) fn c_type_name(btf: &Btf, id: u32) -> String {
    let mut budget = NAME_BUDGET;
    declare(btf, id, String::new(), 0, &mut budget)
}

/// [`c_type_name`] without qualifiers (`const`, `volatile`, `restrict`, type
/// tags) on the type or its array elements, as ecc writes variable and member
/// types: `char[16]` for `const volatile char[16]`.
pub(crate) fn unqualified_c_type_name(btf: &Btf, mut id: u32) -> String {
    let mut dims = String::new();
    for _ in 0..MAX_RESOLVE_DEPTH {
        match btf.type_by_id(id) {
            Some(
                Type::Const { target }
                | Type::Volatile { target }
                | Type::Restrict { target }
                | Type::TypeTag { target, .. },
            ) => id = target,
            Some(Type::Array { elem, nelems, .. }) => {
                dims.push_str(&format!("[{nelems}]"));
                id = elem;
            }
            _ => break,
        }
    }
    c_type_name(btf, id) + &dims
}

/// Most types visited for one name (function prototypes can fan out through pointer cycles).
const NAME_BUDGET: u32 = 256;

fn join(base: &str, inner: &str) -> String {
    if inner.is_empty() {
        base.to_string()
    } else if inner.starts_with('[') {
        format!("{base}{inner}")
    } else {
        format!("{base} {inner}")
    }
}

fn tagged(tag: &str, name: &str) -> String {
    if name.is_empty() {
        format!("{tag} {{...}}")
    } else {
        format!("{tag} {name}")
    }
}

fn needs_parens(btf: &Btf, id: u32) -> bool {
    matches!(
        btf.type_by_id(btf.resolve(id)),
        Some(Type::Array { .. } | Type::FuncProto { .. })
    )
}

/// `const`/`volatile`/`restrict`: after the `*` for pointers, before the base type otherwise.
fn qualified(
    btf: &Btf,
    q: &str,
    target: u32,
    inner: String,
    depth: u32,
    budget: &mut u32,
) -> String {
    if matches!(btf.type_by_id(target), Some(Type::Ptr { .. })) {
        let inner = if inner.is_empty() {
            q.to_string()
        } else {
            format!("{q} {inner}")
        };
        declare(btf, target, inner, depth + 1, budget)
    } else {
        format!("{q} {}", declare(btf, target, inner, depth + 1, budget))
    }
}

/// Spells the declaration of `inner` (a declarator such as `*`, `[4]`) with base type `id`.
fn declare(btf: &Btf, id: u32, inner: String, depth: u32, budget: &mut u32) -> String {
    *budget = budget.saturating_sub(1);
    if depth > MAX_RESOLVE_DEPTH {
        return join("?", &inner);
    }
    let Some(t) = btf.type_by_id(id) else {
        return join("?", &inner);
    };
    match t {
        Type::Void => join("void", &inner),
        Type::Int { name, .. }
        | Type::Float { name, .. }
        | Type::Typedef { name, .. }
        | Type::Func { name, .. }
        | Type::Var { name, .. }
        | Type::Datasec { name, .. } => join(name, &inner),
        Type::Struct { name, .. } => join(&tagged("struct", name), &inner),
        Type::Union { name, .. } => join(&tagged("union", name), &inner),
        Type::Enum { name, .. } | Type::Enum64 { name, .. } => join(&tagged("enum", name), &inner),
        Type::Fwd { name, union } => join(
            &tagged(if union { "union" } else { "struct" }, name),
            &inner,
        ),
        Type::Ptr { target } => {
            let inner = if needs_parens(btf, target) {
                format!("(*{inner})")
            } else {
                format!("*{inner}")
            };
            declare(btf, target, inner, depth + 1, budget)
        }
        Type::Array { elem, nelems, .. } => {
            declare(btf, elem, format!("{inner}[{nelems}]"), depth + 1, budget)
        }
        Type::Const { target } => qualified(btf, "const", target, inner, depth, budget),
        Type::Volatile { target } => qualified(btf, "volatile", target, inner, depth, budget),
        Type::Restrict { target } => qualified(btf, "restrict", target, inner, depth, budget),
        Type::TypeTag { target, .. } | Type::DeclTag { target, .. } => {
            declare(btf, target, inner, depth + 1, budget)
        }
        Type::FuncProto { ret, .. } if *budget == 0 => {
            declare(btf, ret, format!("{inner}(...)"), depth + 1, budget)
        }
        Type::FuncProto { ret, params } => {
            let list: Vec<String> = params
                .iter()
                .map(|p| {
                    if p.type_id == 0 && p.name.is_empty() {
                        "...".to_string()
                    } else {
                        declare(btf, p.type_id, String::new(), depth + 1, budget)
                    }
                })
                .collect();
            let list = if list.is_empty() {
                "void".to_string()
            } else {
                list.join(", ")
            };
            declare(btf, ret, format!("{inner}({list})"), depth + 1, budget)
        }
        Type::Unknown { kind } => join(&format!("<kind {kind}>"), &inner),
    }
}

#[cfg(test)]
mod tests {
    use crate::write::{BtfBuilder, IntEncoding};

    #[test]
    fn unqualified_names_drop_qualifiers_of_the_type_and_its_elements() {
        let mut b = BtfBuilder::new();
        let ch = b.add_int("char", 1, IntEncoding::SIGNED); // 1
        let int = b.add_int("int", 4, IntEncoding::SIGNED); // 2
        let cch = b.add_const(ch); // 3
        let arr = b.add_array(cch, int, 16); // 4
        let vol = b.add_volatile(arr); // 5
        let cvol = b.add_const(vol); // 6
        let grid = b.add_array(int, int, 3); // 7
        let grid2 = b.add_array(grid, int, 2); // 8
        let btf = b.build().unwrap();
        assert_eq!(super::unqualified_c_type_name(&btf, cvol), "char[16]");
        assert_eq!(super::unqualified_c_type_name(&btf, grid2), "int[2][3]");
        assert_eq!(super::unqualified_c_type_name(&btf, int), "int");
    }

    #[test]
    fn spells_common_types() {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED); // 1
        let ch = b.add_int(
            "char",
            1,
            IntEncoding {
                signed: true,
                char: true,
                ..Default::default()
            },
        ); // 2
        let arr = b.add_array(ch, int, 16); // 3
        let ev = b.add_struct("event", 8); // 4
        let pev = b.add_ptr(ev); // 5
        let cch = b.add_const(ch); // 6
        let pcch = b.add_ptr(cch); // 7
        let fp = b.add_func_proto(int); // 8
        b.add_param("", int).unwrap();
        let pfp = b.add_ptr(fp); // 9
        let u = b.add_int("unsigned int", 4, IntEncoding::default()); // 10
        let anon = b.add_union("", 4); // 11
        let btf = b.build().unwrap();
        assert_eq!(btf.c_type_name(0), "void");
        assert_eq!(btf.c_type_name(arr), "char[16]");
        assert_eq!(btf.c_type_name(pev), "struct event *");
        assert_eq!(btf.c_type_name(pcch), "const char *");
        assert_eq!(btf.c_type_name(pfp), "int (*)(int)");
        assert_eq!(btf.c_type_name(u), "unsigned int");
        assert_eq!(btf.c_type_name(anon), "union {...}");
        assert_eq!(btf.c_type_name(999), "?");
    }
}
