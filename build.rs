//! Generates the rule registry and the rule docs from `src/lint/rules/*.rs`.
//!
//! Every file there holds one rule: a struct named after the file
//! (`drop_table.rs` → `DropTable`) and a `//!` module doc that is the rule's
//! documentation. `straddle explain` and `docs/rules.md` print that doc, so the
//! two never drift.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

fn pascal(stem: &str) -> String {
    stem.split('_')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn main() {
    let dir = Path::new("src/lint/rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut stems: Vec<String> = fs::read_dir(dir)
        .expect("src/lint/rules must exist")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|s| s != "mod")
        .collect();
    stems.sort();

    // Only declared modules are compiled; a file being written but not yet
    // declared is left out (a test checks that none is forgotten).
    let module_list = fs::read_to_string(dir.join("mod.rs")).expect("src/lint/rules/mod.rs");
    stems.retain(|stem| module_list.contains(&format!("pub mod {stem};")));
    let mut out = String::new();
    out.push_str("/// Every rule, in id order.\npub static ALL: &[&dyn crate::lint::Rule] = &[\n");
    for stem in &stems {
        writeln!(out, "    &{stem}::{},", pascal(stem)).unwrap();
    }
    out.push_str("];\n\n/// (rule id, documentation from the rule file's `//!` comments).\npub static DOCS: &[(&str, &str)] = &[\n");
    for stem in &stems {
        let path = dir.join(format!("{stem}.rs"));
        println!("cargo:rerun-if-changed={}", path.display());
        let text = fs::read_to_string(&path).expect("rule file");
        let doc: Vec<&str> = text
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .map(|l| {
                let l = &l[3..];
                l.strip_prefix(' ').unwrap_or(l)
            })
            .collect();
        writeln!(
            out,
            "    ({:?}, {:?}),",
            stem.replace('_', "-"),
            doc.join("\n")
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("rules_registry.rs");
    fs::write(dest, out).unwrap();
}
