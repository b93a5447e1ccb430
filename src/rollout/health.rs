//! Shell commands the rollout depends on: the contract gate's check command
//! and the health command watched after a phase is applied.
//!
//! The health watch runs the command right after applying, then every
//! interval, until the whole watch time has passed. N failures in a row end
//! it as unhealthy (the caller rolls back). It never ends early as healthy,
//! and never on a failing check: when the watch time runs out during a run
//! of failures, it keeps checking until a check passes or the run reaches N.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;

/// How a command ended.
#[derive(Clone, Debug, Serialize)]
pub struct CommandResult {
    pub ok: bool,
    /// `exit status 1`, `killed after 30s`, `could not start: …`.
    pub status: String,
    /// The last lines of its output (stdout and stderr).
    pub output: String,
}

impl CommandResult {
    /// `exit status 1: connection refused`.
    pub fn summary(&self) -> String {
        let last = self.output.lines().rev().find(|l| !l.trim().is_empty());
        match last {
            Some(line) => format!("{}: {}", self.status, line.trim()),
            None => self.status.clone(),
        }
    }
}

fn tail(bytes: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}

/// Runs `command` with `sh -c` (the environment plus `env`), killing it
/// after `timeout`.
pub async fn run_command(
    command: &str,
    env: &[(String, String)],
    timeout: Duration,
) -> CommandResult {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return CommandResult {
                ok: false,
                status: format!("could not start: {e}"),
                output: String::new(),
            };
        }
    };
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => CommandResult {
            ok: false,
            status: format!("killed after {}", super::store::human(timeout)),
            output: String::new(),
        },
        Ok(Err(e)) => CommandResult {
            ok: false,
            status: format!("failed: {e}"),
            output: String::new(),
        },
        Ok(Ok(out)) => {
            let mut both = out.stdout.clone();
            both.extend_from_slice(&out.stderr);
            CommandResult {
                ok: out.status.success(),
                status: match out.status.code() {
                    Some(code) => format!("exit status {code}"),
                    None => "killed by a signal".to_string(),
                },
                output: tail(&both, 5),
            }
        }
    }
}

/// What the watch runs, and for how long.
#[derive(Clone, Debug)]
pub struct HealthOptions {
    pub command: String,
    pub watch: Duration,
    pub interval: Duration,
    /// Failures in a row that make the watch fail.
    pub failures: u32,
}

impl HealthOptions {
    /// How long one check may run: the interval, at least 5 s.
    pub fn check_timeout(&self) -> Duration {
        self.interval.max(Duration::from_secs(5))
    }
}

/// One check of the watch, as it happens.
#[derive(Clone, Debug)]
pub struct Check {
    /// 1-based.
    pub number: u32,
    pub result: CommandResult,
    /// Failures in a row, this one included (0 when it passed).
    pub streak: u32,
    pub elapsed: Duration,
    pub watch: Duration,
}

/// How the watch ended.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// The whole watch time passed and the last check passed.
    Healthy { checks: u32, watched: Duration },
    /// `streak` failures in a row.
    Unhealthy {
        checks: u32,
        streak: u32,
        last: CommandResult,
    },
}

/// Watches the health command. `env` is passed to every run.
pub async fn watch(
    options: &HealthOptions,
    env: &[(String, String)],
    on_check: &mut dyn FnMut(&Check),
) -> Verdict {
    let started = Instant::now();
    let failures = options.failures.max(1);
    let mut streak = 0;
    let mut number = 0;
    loop {
        number += 1;
        let result = run_command(&options.command, env, options.check_timeout()).await;
        if result.ok {
            streak = 0;
        } else {
            streak += 1;
        }
        on_check(&Check {
            number,
            result: result.clone(),
            streak,
            elapsed: started.elapsed(),
            watch: options.watch,
        });
        if streak >= failures {
            return Verdict::Unhealthy {
                checks: number,
                streak,
                last: result,
            };
        }
        let next = started + options.interval * number;
        let end = started + options.watch;
        if next >= end && streak == 0 {
            // Never declare victory before the whole watch time.
            tokio::time::sleep_until(end.into()).await;
            return Verdict::Healthy {
                checks: number,
                watched: started.elapsed(),
            };
        }
        let now = Instant::now();
        if next > now {
            tokio::time::sleep(next - now).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn commands_report_status_and_output() {
        let r = rt().block_on(run_command(
            "echo fine; echo broken >&2; exit 3",
            &[],
            Duration::from_secs(5),
        ));
        assert!(!r.ok);
        assert_eq!(r.summary(), "exit status 3: broken");
        let r = rt().block_on(run_command(
            "test \"$X\" = y",
            &[("X".into(), "y".into())],
            Duration::from_secs(5),
        ));
        assert!(r.ok, "{r:?}");
        let r = rt().block_on(run_command("sleep 5", &[], Duration::from_millis(100)));
        assert!(!r.ok && r.status.starts_with("killed after"), "{r:?}");
    }

    #[test]
    fn a_passing_watch_lasts_the_whole_watch_time() {
        let options = HealthOptions {
            command: "true".into(),
            watch: Duration::from_millis(600),
            interval: Duration::from_millis(250),
            failures: 2,
        };
        let started = Instant::now();
        let mut seen = 0;
        let verdict = rt().block_on(watch(&options, &[], &mut |_| seen += 1));
        assert!(started.elapsed() >= Duration::from_millis(600));
        assert!(
            matches!(verdict, Verdict::Healthy { checks: 3, .. }),
            "{verdict:?}"
        );
        assert_eq!(seen, 3);
    }

    #[test]
    fn failures_in_a_row_end_the_watch() {
        let options = HealthOptions {
            command: "false".into(),
            watch: Duration::from_secs(60),
            interval: Duration::from_millis(50),
            failures: 3,
        };
        let verdict = rt().block_on(watch(&options, &[], &mut |_| {}));
        assert!(
            matches!(
                verdict,
                Verdict::Unhealthy {
                    checks: 3,
                    streak: 3,
                    ..
                }
            ),
            "{verdict:?}"
        );
    }
}
