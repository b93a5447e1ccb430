//! Any bytes, read as a migration: split, parse and lint in every dialect.
//! Nothing may panic. A byte 0 splits the input into an up and a down file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use straddle::Dialect;
use straddle::lint::{LintOptions, lint_text};
use straddle::sql::parse_file;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (up, down) = match text.split_once('\0') {
        Some((up, down)) => (up, Some(down)),
        None => (text, None),
    };
    for dialect in Dialect::ALL {
        let file = parse_file(up, dialect);
        for statement in &file.statements {
            // The byte range must hold the text, on character boundaries.
            assert_eq!(
                up.get(statement.span.bytes.clone()),
                Some(statement.text.as_str())
            );
        }
        let options = LintOptions {
            dialect,
            ..LintOptions::default()
        };
        let _ = lint_text(up, down, &options);
    }
});
