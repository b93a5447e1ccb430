//! An ephemeral PostgreSQL cluster from the local `initdb` and `pg_ctl`: a
//! data folder in a temporary directory, a free port on 127.0.0.1, trust
//! authentication, no fsync. Stopped and deleted when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::db::DbUrl;

pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// Run the server as this user (when straddle runs as root, which
    /// PostgreSQL refuses).
    run_as: Option<String>,
    running: bool,
}

/// The folder holding `initdb` and `pg_ctl`: on PATH, else the newest
/// `/usr/lib/postgresql/<version>/bin`.
pub fn find_binaries() -> Option<PathBuf> {
    let has = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has(&dir) {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            has(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or_else(|_| std::env::var("USER").is_ok_and(|u| u == "root"))
}

/// uid and gid of a local user, from /etc/passwd.
fn user_ids(user: &str) -> Option<(u32, u32)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() > 3 && f[0] == user).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn chown_all(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_all(&entry?.path(), uid, gid)?;
        }
    }
    Ok(())
}

impl Cluster {
    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let out = self
            .command(program)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        let mut text = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if text.is_empty() {
            text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        }
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        if !tail.is_empty() {
            text.push_str("\nserver log:\n");
            text.push_str(&tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        }
        Err(format!("{program} failed: {text}"))
    }

    /// Creates and starts a cluster.
    pub fn start(bin: PathBuf) -> Result<Cluster, String> {
        let dir = tempfile::Builder::new()
            .prefix("straddle-verify-pg-")
            .tempdir()
            .map_err(|e| format!("cannot make a temporary folder: {e}"))?;
        let run_as = if running_as_root() {
            let (uid, gid) = user_ids("postgres").ok_or_else(|| {
                "PostgreSQL refuses to run as root and there is no `postgres` user to run the \
                 ephemeral cluster as; pass --scratch-url instead"
                    .to_string()
            })?;
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755));
            chown_all(dir.path(), uid, gid)
                .map_err(|e| format!("cannot give the cluster folder to postgres: {e}"))?;
            Some("postgres".to_string())
        } else {
            None
        };
        let port = free_port()?;
        let mut cluster = Cluster {
            dir,
            bin,
            port,
            run_as,
            running: false,
        };
        let data = cluster.dir.path().join("data");
        let data = data.to_string_lossy().to_string();
        let socket = cluster.dir.path().to_string_lossy().to_string();
        let log = cluster.dir.path().join("server.log");
        let log = log.to_string_lossy().to_string();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        let options = format!(
            "-p {port} -k {socket} -h 127.0.0.1 -F -c full_page_writes=off -c synchronous_commit=off"
        );
        cluster.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options, "start",
            ],
        )?;
        cluster.running = true;
        Ok(cluster)
    }

    /// The admin URL of the cluster (user postgres, trust authentication).
    pub fn url(&self) -> DbUrl {
        DbUrl::parse(&format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.port
        ))
        .expect("a valid URL")
    }

    /// Stops the server (immediately: nothing in it is worth keeping).
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        let data = self.dir.path().join("data").to_string_lossy().to_string();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        self.running = false;
    }

    /// Where the cluster lives (removed on drop).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}
