//! Progress of long rollout work (waves over many databases, a health
//! watch): a progress bar when a person watches a terminal, plain lines in
//! CI and in logs.

use std::io::{IsTerminal, Write};
use std::time::Duration;

/// A progress bar (terminal) or plain lines (anything else).
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

/// Whether to draw bars: standard error is a terminal and `CI` is not set.
pub fn interactive() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

impl Progress {
    /// A bar counting to `total` (`unit`: what is counted), or plain lines.
    pub fn new(total: u64, unit: &str) -> Progress {
        if !interactive() {
            return Progress { bar: None };
        }
        let bar = indicatif::ProgressBar::new(total);
        let template =
            format!("{{spinner}} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {unit} {{msg}}");
        if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar: Some(bar) }
    }

    /// Plain lines only (no bar), whatever the output is.
    pub fn plain() -> Progress {
        Progress { bar: None }
    }

    /// Prints a line above the bar, or on standard output.
    pub fn line(&self, text: impl AsRef<str>) {
        match &self.bar {
            Some(bar) => bar.println(text.as_ref()),
            None => {
                let mut out = anstream::stdout();
                let _ = writeln!(out, "{}", text.as_ref());
                let _ = out.flush();
            }
        }
    }

    /// The bar's message (nothing in plain mode: lines carry the news).
    pub fn message(&self, text: impl Into<String>) {
        if let Some(bar) = &self.bar {
            bar.set_message(text.into());
        }
    }

    pub fn set_length(&self, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }

    pub fn set_position(&self, position: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
        }
    }

    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Removes the bar (the lines stay).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
