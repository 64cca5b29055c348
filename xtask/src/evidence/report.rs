//! What `cargo xtask bench` and `cargo xtask harden` share: the machine and commit a run is of,
//! the date, number formatting, and rewriting their own section of BENCHMARKS.md.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// The file both commands write.
pub(crate) const FILE: &str = "BENCHMARKS.md";

/// A section of BENCHMARKS.md that one command owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Bench,
    Harden,
}

impl Section {
    pub(crate) fn start(self) -> &'static str {
        match self {
            Section::Bench => "<!-- bench:start -->",
            Section::Harden => "<!-- harden:start -->",
        }
    }

    pub(crate) fn end(self) -> &'static str {
        match self {
            Section::Bench => "<!-- bench:end -->",
            Section::Harden => "<!-- harden:end -->",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Section::Bench => "## cargo xtask bench",
            Section::Harden => "## cargo xtask harden",
        }
    }
}

const SKELETON: &str = "# Benchmarks and hardening evidence\n\nEvery figure below is written by a command, never by hand: `cargo xtask bench` rewrites the\nfirst section, `cargo xtask harden` the second. Rerun them to check.\n\n## cargo xtask bench\n\n<!-- bench:start -->\n(not run yet)\n<!-- bench:end -->\n\n## cargo xtask harden\n\n<!-- harden:start -->\n(not run yet)\n<!-- harden:end -->\n";

/// Replaces `section`'s part of BENCHMARKS.md with `body`, creating the file (with both
/// sections) or the section's markers when missing. The other section is never touched.
pub(crate) fn write_section(root: &Path, section: Section, body: &str) -> Result<(), String> {
    let path = root.join(FILE);
    let current = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => SKELETON.to_owned(),
        Err(e) => return Err(format!("{FILE}: cannot read: {e}")),
    };
    let (start, end) = (section.start(), section.end());
    let text = match (current.find(start), current.find(end)) {
        (Some(a), Some(b)) if a < b => current,
        (None, None) => format!(
            "{}\n\n{}\n\n{start}\n{end}\n",
            current.trim_end(),
            section.heading()
        ),
        _ => {
            return Err(format!(
                "{FILE}: the markers {start} and {end} are not a pair; fix the file by hand"
            ));
        }
    };
    let (a, b) = match (text.find(start), text.find(end)) {
        (Some(a), Some(b)) => (a + start.len(), b),
        _ => return Err(format!("{FILE}: markers vanished while writing")),
    };
    let new = format!("{}\n{}\n{}", &text[..a], body.trim_end(), &text[b..]);
    std::fs::write(&path, new).map_err(|e| format!("{FILE}: cannot write: {e}"))
}

/// Thousands separators: 50000 → 50,000.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC` (Howard Hinnant's days-to-civil).
pub(crate) fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3_600,
        rem % 3_600 / 60
    )
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The machine, toolchain and commit a run is of.
#[derive(Debug, Clone)]
pub(crate) struct Machine {
    pub(crate) cpus: usize,
    pub(crate) cpu_model: String,
    pub(crate) memory: String,
    pub(crate) os: String,
    pub(crate) kernel: String,
    pub(crate) rustc: String,
    pub(crate) date: String,
    /// `abc1234` or `abc1234 with uncommitted changes` (BENCHMARKS.md itself does not count).
    pub(crate) commit: String,
}

impl Machine {
    /// Reads it all now: call it before the run writes anything.
    pub(crate) fn collect(root: &Path) -> Self {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpu_model = read("/proc/cpuinfo")
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, m)| m.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let memory = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|l| l.split_whitespace().next()?.parse::<f64>().ok())
            .map_or_else(
                || "unknown".into(),
                |kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0),
            );
        let os = read("/etc/os-release")
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|s| s.trim_matches('"').to_owned())
            .unwrap_or_else(|| std::env::consts::OS.into());
        let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
        let rustc = output(
            Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())).arg("-V"),
        )
        .unwrap_or_else(|| "unknown".into());
        let git = |args: &[&str]| output(Command::new("git").args(args).current_dir(root));
        let dirty = git(&[
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":(exclude)BENCHMARKS.md",
        ])
        .is_some_and(|s| !s.is_empty());
        let commit = match git(&["rev-parse", "--short", "HEAD"]) {
            Some(h) if dirty => format!("{h} with uncommitted changes"),
            Some(h) => h,
            None => "unknown".into(),
        };
        Self {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            memory,
            os,
            kernel: if kernel.is_empty() {
                "unknown".into()
            } else {
                format!("Linux {kernel}")
            },
            rustc,
            date: utc_now(),
            commit,
        }
    }

    /// One line: `AMD EPYC, 2 cores, 23.5 GiB RAM, Debian … (Linux …), rustc …`.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{}, {} cores, {} RAM, {} ({}), {}",
            self.cpu_model, self.cpus, self.memory, self.os, self.kernel, self.rustc
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_rewrites_only_its_own_section() {
        let dir = std::env::temp_dir().join(format!("tim-xtask-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE);
        let _ = std::fs::remove_file(&path);
        write_section(&dir, Section::Harden, "FIRST-RUN").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("<!-- bench:start -->\n(not run yet)\n<!-- bench:end -->"),
            "{text}"
        );
        assert!(
            text.contains("<!-- harden:start -->\nFIRST-RUN\n<!-- harden:end -->"),
            "{text}"
        );
        write_section(&dir, Section::Bench, "bench figures\n").unwrap();
        write_section(&dir, Section::Harden, "second").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("<!-- bench:start -->\nbench figures\n<!-- bench:end -->"),
            "{text}"
        );
        assert!(
            text.contains("<!-- harden:start -->\nsecond\n<!-- harden:end -->\n"),
            "{text}"
        );
        assert!(!text.contains("FIRST-RUN"));
        // A file without the markers gets them appended; broken markers are refused.
        std::fs::write(&path, "# Other\n").unwrap();
        write_section(&dir, Section::Bench, "x").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# Other")
                && text.contains("<!-- bench:start -->\nx\n<!-- bench:end -->")
        );
        std::fs::write(&path, "<!-- bench:end --> <!-- bench:start -->").unwrap();
        assert!(write_section(&dir, Section::Bench, "x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn numbers_and_dates() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(50_000), "50,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        let now = utc_now();
        assert_eq!(now.len(), "2026-01-01 00:00 UTC".len(), "{now}");
        assert!(now.starts_with("20") && now.ends_with(" UTC"), "{now}");
    }
}
