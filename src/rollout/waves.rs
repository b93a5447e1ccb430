//! Many databases at once (shards, one database per tenant): a phase is
//! applied to one database first, then to more in waves (`--waves
//! 1,4,25%,100%`), with bounded parallelism within a wave, the health
//! command between waves, and, at the first failure, the failing wave
//! rolled back and the run stopped. Earlier waves stay applied (they passed
//! their health checks); later waves are never touched.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::task::Poll;

use serde::Deserialize;

use super::health::{self, HealthOptions, Verdict};
use super::phase::{self, PhaseJob, Preflight, TargetRun};
use super::progress::Progress;
use super::store::{self, NewEvent};
use crate::db::{AnyBackend, DbUrl, connect};
use crate::runner::{Command, Event, RunError};

/// One database of the fleet.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    pub url: DbUrl,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    #[serde(default)]
    target: Vec<TargetEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetEntry {
    name: Option<String>,
    url: Option<String>,
    /// The name of an environment variable that holds the URL (keeps
    /// passwords out of the file).
    url_env: Option<String>,
}

/// Reads a targets file:
///
/// ```toml
/// [[target]]
/// name = "tenant-a"
/// url = "postgres://app@db1/tenant_a"
///
/// [[target]]
/// name = "tenant-b"
/// url_env = "TENANT_B_DATABASE_URL"
/// ```
pub fn load_targets(path: &Path) -> Result<Vec<Target>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: TargetsFile = toml::from_str(&text)
        .map_err(|e| format!("{}: {}", path.display(), e.message().trim_end()))?;
    if file.target.is_empty() {
        return Err(format!(
            "{}: no [[target]] entries; each needs `url = \"…\"` or `url_env = \"VARIABLE\"`",
            path.display()
        ));
    }
    let mut out: Vec<Target> = Vec::new();
    for (i, entry) in file.target.into_iter().enumerate() {
        let place = format!("{}: target {}", path.display(), i + 1);
        let raw = match (&entry.url, &entry.url_env) {
            (Some(url), None) => url.clone(),
            (None, Some(var)) => std::env::var(var).map_err(|_| {
                format!("{place}: the environment variable {var} (url_env) is not set")
            })?,
            _ => return Err(format!("{place}: give exactly one of `url` and `url_env`")),
        };
        let url = DbUrl::parse(&raw).map_err(|e| format!("{place}: {e}"))?;
        let name = entry.name.unwrap_or_else(|| format!("target-{}", i + 1));
        if out.iter().any(|t| t.name == name) {
            return Err(format!("{place}: the name `{name}` is used twice"));
        }
        if let Some(first) = out.first()
            && first.url.dialect() != url.dialect()
        {
            return Err(format!(
                "{place}: every target must be the same kind of database ({} is {}, {} is {})",
                first.name,
                first.url.dialect(),
                name,
                url.dialect()
            ));
        }
        out.push(Target { name, url });
    }
    Ok(out)
}

/// One entry of `--waves`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaveSize {
    /// This many databases done after the wave.
    Count(usize),
    /// This share of the fleet done after the wave (rounded up).
    Percent(u32),
}

/// Parses `1,4,25%,100%`.
pub fn parse_waves(spec: &str) -> Result<Vec<WaveSize>, String> {
    let mut out = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        let bad = || {
            format!(
                "--waves: `{part}` is not a wave size; write counts and percentages of the databases \
                 done after each wave, for example 1,4,25%,100%"
            )
        };
        if let Some(p) = part.strip_suffix('%') {
            let p: u32 = p.trim().parse().map_err(|_| bad())?;
            if p == 0 || p > 100 {
                return Err(bad());
            }
            out.push(WaveSize::Percent(p));
        } else {
            let n: usize = part.parse().map_err(|_| bad())?;
            if n == 0 {
                return Err(bad());
            }
            out.push(WaveSize::Count(n));
        }
    }
    Ok(out)
}

/// The waves over `total` databases: index ranges, each wave taking the
/// fleet up to the next size (sizes that do not grow are skipped; a final
/// wave takes the rest when the sizes stop short of every database).
pub fn plan_waves(sizes: &[WaveSize], total: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut done = 0;
    for size in sizes {
        let upto = match *size {
            WaveSize::Count(n) => n.min(total),
            WaveSize::Percent(p) => (total * p as usize).div_ceil(100).min(total),
        };
        if upto > done {
            out.push(done..upto);
            done = upto;
        }
    }
    if done < total {
        out.push(done..total);
    }
    out
}

/// A boxed future, as [`bounded`] runs them.
pub type Task<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Runs `futures` with at most `limit` at once, in order; once `stop` says
/// so for a result, no further future is started (those running finish).
/// `None` for the futures never started.
pub async fn bounded<'a, T>(
    futures: Vec<Task<'a, T>>,
    limit: usize,
    stop: impl Fn(&T) -> bool,
) -> Vec<Option<T>> {
    let limit = limit.max(1);
    let mut results: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    let mut pending: std::collections::VecDeque<_> = futures.into_iter().enumerate().collect();
    let mut running: Vec<(usize, Task<'a, T>)> = Vec::new();
    let mut stopped = false;
    std::future::poll_fn(|cx| {
        loop {
            while !stopped && running.len() < limit {
                match pending.pop_front() {
                    Some(f) => running.push(f),
                    None => break,
                }
            }
            let mut finished = false;
            let mut i = 0;
            while i < running.len() {
                if let Poll::Ready(value) = running[i].1.as_mut().poll(cx) {
                    let (index, _) = running.swap_remove(i);
                    if stop(&value) {
                        stopped = true;
                    }
                    results[index] = Some(value);
                    finished = true;
                } else {
                    i += 1;
                }
            }
            if running.is_empty() && (stopped || pending.is_empty()) {
                return Poll::Ready(());
            }
            if !finished {
                return Poll::Pending;
            }
        }
    })
    .await;
    results
}

async fn open(url: &DbUrl) -> Result<AnyBackend, RunError> {
    connect(url, true).await.map_err(|e| {
        RunError::Database(crate::db::DbError::new(
            e.kind,
            format!("cannot connect to {url}: {}", e.message),
        ))
    })
}

/// Looks at every target before anything changes: connects, reads the
/// history, plans, evaluates contract gates.
pub async fn preflight_all(
    targets: &[Target],
    job: &PhaseJob,
    parallel: usize,
) -> Vec<Result<Preflight, RunError>> {
    let futures: Vec<Task<'_, Result<Preflight, RunError>>> = targets
        .iter()
        .map(|t| {
            Box::pin(async move {
                let mut db = open(&t.url).await?;
                phase::preflight(&mut db, job).await
            }) as Task<'_, _>
        })
        .collect();
    bounded(futures, parallel, |_| false)
        .await
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(RunError::Usage("not checked".into()))))
        .collect()
}

/// The fleet's settings.
#[derive(Clone, Debug)]
pub struct FleetOptions {
    pub waves: Vec<WaveSize>,
    pub parallel: usize,
    pub health: Option<HealthOptions>,
    pub actor: String,
}

/// What became of one target.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum TargetState {
    /// Not reached: the run stopped before its wave.
    Untouched,
    /// Its wave passed; these migrations were applied (maybe none).
    Applied { versions: Vec<String> },
    /// Its wave failed; what it applied was rolled back.
    RolledBack { versions: Vec<String> },
    /// It failed (and what it applied was rolled back).
    Failed { error: String },
    /// Rolling it back failed too: it needs a person.
    RollbackFailed { error: String },
}

/// What a fleet run did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FleetOutcome {
    pub targets: Vec<(String, TargetState)>,
    /// Why the run stopped early.
    pub failure: Option<String>,
}

impl FleetOutcome {
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }
}

/// One line: what failed and the database's own message.
pub fn short_error(e: &RunError) -> String {
    match e {
        RunError::Failed {
            version,
            place,
            error,
            ..
        } => format!(
            "migration {version} failed at {place}: {}",
            first_line(&error.message)
        ),
        other => first_line(&other.to_string())
            .trim_end_matches(':')
            .to_string(),
    }
}

fn run_error_text(run: &TargetRun) -> String {
    match (&run.error, &run.blocked) {
        (Some(e), _) => short_error(e),
        (None, Some(b)) => format!("blocked: {b}"),
        _ => String::new(),
    }
}

/// Rolls back what `runs` applied on the targets of a failing wave, and
/// records why on each.
async fn roll_back_wave(
    targets: &[Target],
    runs: &[Option<TargetRun>],
    job: &PhaseJob,
    fleet: &FleetOptions,
    why: &str,
    progress: &Progress,
) -> Vec<TargetState> {
    let futures: Vec<Task<'_, TargetState>> = targets
        .iter()
        .zip(runs)
        .map(|(t, run)| {
            Box::pin(async move {
                let Some(run) = run else {
                    return TargetState::Untouched;
                };
                let failed = run.failed().then(|| run_error_text(run));
                let Some(before) = &run.before else {
                    return TargetState::Failed {
                        error: failed.unwrap_or_default(),
                    };
                };
                let mut log = |e: Event| progress.line(format!("  {}: {e}", t.name));
                let result = async {
                    let mut db = open(&t.url).await?;
                    crate::runner::lock(&mut db, job.options.wait_for_runner, &mut log).await?;
                    let outcome = phase::rollback_since(
                        &mut db,
                        &job.set,
                        job.dialect,
                        before,
                        &job.options,
                        &mut log,
                    )
                    .await;
                    if let Ok(o) = &outcome
                        && !o.reverted.is_empty()
                    {
                        let event = NewEvent {
                            kind: "auto-rollback".to_string(),
                            migrations: o.reverted.clone(),
                            actor: fleet.actor.clone(),
                            reason: Some(why.to_string()),
                            detail: Some(format!(
                                "wave rollback of `migrate {}` on {}",
                                job.command.name(),
                                t.name
                            )),
                            ..NewEvent::default()
                        };
                        let _ = store::record(&mut db, &event).await;
                    }
                    let _ = crate::db::Backend::unlock(&mut db).await;
                    outcome
                }
                .await;
                match (result, failed) {
                    (Err(e), _) => TargetState::RollbackFailed {
                        error: e.to_string(),
                    },
                    (Ok(_), Some(error)) => TargetState::Failed { error },
                    (Ok(o), None) => TargetState::RolledBack {
                        versions: o.reverted,
                    },
                }
            }) as Task<'_, _>
        })
        .collect();
    bounded(futures, fleet.parallel, |_| false)
        .await
        .into_iter()
        .map(|s| s.unwrap_or(TargetState::Untouched))
        .collect()
}

/// Applies the job to the targets wave by wave.
pub async fn run(
    targets: &[Target],
    job: &PhaseJob,
    fleet: &FleetOptions,
    progress: &Progress,
) -> FleetOutcome {
    let waves = plan_waves(&fleet.waves, targets.len());
    let mut states: Vec<TargetState> = targets.iter().map(|_| TargetState::Untouched).collect();
    let mut failure = None;
    let verb = match job.command {
        Command::Contract => "contract",
        Command::Expand => "expand",
        _ => job.command.name(),
    };
    for (w, range) in waves.iter().enumerate() {
        let wave = &targets[range.clone()];
        let names: Vec<&str> = wave.iter().map(|t| t.name.as_str()).collect();
        progress.message(format!("wave {}/{}", w + 1, waves.len()));
        progress.line(format!(
            "wave {}/{}: `migrate {verb}` on {} database(s): {}",
            w + 1,
            waves.len(),
            wave.len(),
            names.join(", ")
        ));
        let futures: Vec<Task<'_, TargetRun>> = wave
            .iter()
            .map(|t| {
                Box::pin(async move {
                    let mut log = |e: Event| progress.line(format!("  {}: {e}", t.name));
                    let run = match open(&t.url).await {
                        Ok(mut db) => phase::apply(&mut db, job, &mut log).await,
                        Err(e) => TargetRun {
                            error: Some(e),
                            ..TargetRun::default()
                        },
                    };
                    progress.inc(1);
                    if run.failed() {
                        progress.line(format!("  {}: FAILED: {}", t.name, run_error_text(&run)));
                    } else if run.outcome.applied.is_empty() {
                        progress.line(format!("  {}: nothing to apply", t.name));
                    } else {
                        progress.line(format!(
                            "  {}: applied {}",
                            t.name,
                            run.outcome.applied.join(", ")
                        ));
                    }
                    run
                }) as Task<'_, _>
            })
            .collect();
        let runs = bounded(futures, fleet.parallel, TargetRun::failed).await;
        let failed: Vec<String> = wave
            .iter()
            .zip(&runs)
            .filter_map(|(t, r)| {
                r.as_ref()
                    .filter(|r| r.failed())
                    .map(|r| format!("{}: {}", t.name, first_line(&run_error_text(r))))
            })
            .collect();
        let mut why = None;
        if !failed.is_empty() {
            why = Some(format!(
                "wave {} of `migrate {verb}` failed on {}",
                w + 1,
                failed.join("; ")
            ));
        } else if let Some(health) = &fleet.health {
            let applied_any = runs.iter().flatten().any(|r| !r.outcome.applied.is_empty());
            if applied_any {
                progress.line(format!(
                    "wave {}: watching `{}` for {} (every {}, {} failure(s) in a row roll the wave back)",
                    w + 1,
                    health.command,
                    store::human(health.watch),
                    store::human(health.interval),
                    health.failures
                ));
                let env = vec![
                    ("STRADDLE_WAVE".to_string(), (w + 1).to_string()),
                    ("STRADDLE_WAVE_TARGETS".to_string(), names.join(",")),
                    ("STRADDLE_PHASE".to_string(), verb.to_string()),
                ];
                let verdict = health::watch(health, &env, &mut |c| {
                    progress.line(format!(
                        "  health check {}: {}",
                        c.number,
                        if c.result.ok {
                            "passed".to_string()
                        } else {
                            format!("FAILED ({}), {} in a row", c.result.summary(), c.streak)
                        }
                    ))
                })
                .await;
                match verdict {
                    Verdict::Healthy { checks, watched } => progress.line(format!(
                        "wave {}: healthy: {checks} check(s) over {}",
                        w + 1,
                        store::human(watched)
                    )),
                    Verdict::Unhealthy { streak, last, .. } => {
                        why = Some(format!(
                            "health command `{}` failed {streak} time(s) in a row after wave {} of `migrate {verb}` ({})",
                            health.command,
                            w + 1,
                            last.summary()
                        ))
                    }
                }
            } else {
                progress.line(format!(
                    "wave {}: nothing was applied; no health watch",
                    w + 1
                ));
            }
        }
        match why {
            None => {
                for (i, run) in range.clone().zip(&runs) {
                    states[i] = TargetState::Applied {
                        versions: run
                            .as_ref()
                            .map(|r| r.outcome.applied.clone())
                            .unwrap_or_default(),
                    };
                }
            }
            Some(why) => {
                progress.line(format!("{why}: rolling back wave {}", w + 1));
                let rolled = roll_back_wave(wave, &runs, job, fleet, &why, progress).await;
                for (i, state) in range.clone().zip(rolled) {
                    states[i] = state;
                }
                failure = Some(why);
                break;
            }
        }
    }
    FleetOutcome {
        targets: targets.iter().map(|t| t.name.clone()).zip(states).collect(),
        failure,
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_grow_to_the_whole_fleet() {
        let sizes = parse_waves("1,4,25%,100%").unwrap();
        assert_eq!(
            sizes,
            [
                WaveSize::Count(1),
                WaveSize::Count(4),
                WaveSize::Percent(25),
                WaveSize::Percent(100)
            ]
        );
        assert_eq!(plan_waves(&sizes, 5), [0..1, 1..4, 4..5]);
        assert_eq!(plan_waves(&sizes, 40), [0..1, 1..4, 4..10, 10..40]);
        let one = plan_waves(&sizes, 1);
        assert_eq!((one.len(), one[0].clone()), (1, 0..1));
        assert_eq!(plan_waves(&[WaveSize::Count(2)], 5), [0..2, 2..5]);
        assert!(parse_waves("1,0").is_err());
        assert!(parse_waves("1,150%").is_err());
        assert!(parse_waves("one").is_err());
    }

    #[test]
    fn bounded_stops_starting_after_a_failure() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let sleeps = [60u64, 50, 5, 100, 10, 10];
        let futures: Vec<Task<'static, usize>> = (0..6)
            .map(|i| {
                Box::pin(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(sleeps[i])).await;
                    i
                }) as Task<'static, usize>
            })
            .collect();
        // Two at a time: 0 and 1, then 2 when 1 ends; 2 stops the rest, and
        // 0, already running, still finishes.
        let results = rt.block_on(bounded(futures, 2, |v| *v == 2));
        assert_eq!(results, [Some(0), Some(1), Some(2), None, None, None]);
    }

    #[test]
    fn targets_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("targets.toml");
        std::fs::write(
            &path,
            "[[target]]\nname = \"a\"\nurl = \"sqlite://a.db\"\n[[target]]\nurl = \"sqlite://b.db\"\n",
        )
        .unwrap();
        let targets = load_targets(&path).unwrap();
        assert_eq!(targets[1].name, "target-2");
        std::fs::write(&path, "[[target]]\nname = \"a\"\n").unwrap();
        assert!(load_targets(&path).unwrap_err().contains("exactly one"));
        std::fs::write(
            &path,
            "[[target]]\nurl = \"sqlite://a.db\"\n[[target]]\nurl = \"postgres://h/b\"\n",
        )
        .unwrap();
        assert!(load_targets(&path).unwrap_err().contains("same kind"));
    }
}
