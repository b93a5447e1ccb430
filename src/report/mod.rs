//! Printing findings. Knows only the finding type and the lint outcome.

mod human;
mod json;

use std::io::Write;

pub use human::render_human;
pub use json::render_json;

use crate::lint::LintOutcome;

/// Output formats of `straddle lint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Code frames with the message, why it matters and the safe alternative.
    Human,
    /// `{"findings": […], "summary": {…}}`
    Json,
}

/// Writes the outcome in `format` to `out`.
pub fn write(outcome: &LintOutcome, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Human => out.write_all(render_human(outcome).as_bytes()),
        Format::Json => {
            out.write_all(render_json(outcome).as_bytes())?;
            out.write_all(b"\n")
        }
    }
}
