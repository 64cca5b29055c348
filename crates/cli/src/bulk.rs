//! Bulk jobs on the library's bulk engine ([`Client::chunks_keyed`]): stream JSON Lines, key
//! every item by its line number, and account for every line exactly once.
//!
//! Memory stays flat: lines are read as chunks are needed, and at most `--concurrency` chunks
//! are in flight. Every line ends in exactly one place: applied (for reads, its results written
//! to `--output` or standard output, in input order), or written to `--failed` in the item's own
//! shape (so that the failed file is a valid input to rerun), with its line number, code and
//! reason in a side file. A chunk the server refuses for one item's sake is split until that
//! item is alone, so its neighbours still go.
//!
//! With `--checkpoint`, progress is committed a few times a second: results are flushed and
//! synced to disk first, then the checkpoint records how far the input is accounted for and how
//! long each output file was (see [`crate::checkpoint`]). Ctrl-C or SIGTERM stops reading new
//! lines, lets the calls in flight finish (a second Ctrl-C abandons them), commits, and exits
//! with code 130; rerunning the same command resumes exactly where the job stopped.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{StreamExt as _, stream};
use serde_json::{Value, json};
use tim_core::{Batch, Client, Settled, Transport};

use crate::Failure;
use crate::args::BulkArgs;
use crate::bulk_input::{LineError, Lines, parse_line};
use crate::checkpoint::{Checkpoint, InputIdentity, Mark};

/// How often progress is committed (synced and recorded) when a checkpoint is kept.
const COMMIT_EVERY: Duration = Duration::from_millis(250);

/// Where the items of a bulk job come from.
pub(crate) enum Source {
    /// A JSON Lines file.
    File(PathBuf),
    /// JSON Lines on standard input.
    Stdin,
    /// Accounts given on the command line (more than one call takes).
    Args(Vec<String>),
}

impl Source {
    /// The file (or `-`) of `--file`.
    pub(crate) fn of(bulk: &BulkArgs) -> Result<Self, Failure> {
        match bulk.file.as_deref() {
            Some(p) if p == Path::new("-") => Ok(Source::Stdin),
            Some(p) => Ok(Source::File(p.to_owned())),
            None => Err(Failure::Usage("--file is required for a bulk job".into())),
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "standard input".into(),
            Source::Args(_) => "the command line".into(),
        }
    }
}

/// What the reader shares with the main loop: lines it could not parse, and how far it got.
#[derive(Default)]
struct Intake {
    bad: std::collections::VecDeque<LineError>,
    read_error: Option<std::io::Error>,
    last_line: u64,
    finished: bool,
}

/// An output file (or standard output) that counts what it holds.
struct Sink {
    out: BufWriter<Box<dyn Write + Send>>,
    file: Option<File>,
    len: u64,
}

impl Sink {
    fn stdout() -> Self {
        Self {
            out: BufWriter::new(Box::new(std::io::stdout())),
            file: None,
            len: 0,
        }
    }

    fn file(f: File, len: u64) -> std::io::Result<Self> {
        let handle = f.try_clone()?;
        Ok(Self {
            out: BufWriter::with_capacity(64 * 1024, Box::new(f)),
            file: Some(handle),
            len,
        })
    }

    fn line(&mut self, v: &impl serde::Serialize) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec(v)?;
        bytes.push(b'\n');
        self.out.write_all(&bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Flushes, and syncs a file to disk.
    fn sync(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        if let Some(f) = &self.file {
            f.sync_data()?;
        }
        Ok(())
    }
}

/// The side file of `--failed FILE`: `FILE` with the extension `reasons.jsonl`.
pub(crate) fn reasons_path(failed: &Path) -> PathBuf {
    failed.with_extension("reasons.jsonl")
}

/// Counts for the summary line.
#[derive(Default)]
struct Tally {
    items: u64,
    calls: u64,
    skipped_lines: u64,
    failed_items: u64,
    bad_lines: u64,
}

/// Prints a line on stderr without breaking the progress bar.
#[allow(clippy::print_stderr)]
fn say(progress: Option<&indicatif::ProgressBar>, line: String) {
    match progress {
        Some(bar) => bar.println(line),
        None => eprintln!("{line}"),
    }
}

/// Where failures go: the failed file (items in their own shape) and its reasons side file.
struct Failures {
    items: Option<Sink>,
    reasons: Option<Sink>,
}

impl Failures {
    /// An item that failed, in its own shape.
    fn write(
        &mut self,
        line: u64,
        item: &Value,
        code: Option<i64>,
        error: &str,
    ) -> std::io::Result<()> {
        if let Some(s) = self.items.as_mut() {
            s.line(item)?;
        }
        self.reason(line, code, error)
    }

    /// A line that could not be sent, as it was read (to be fixed by hand).
    fn write_raw(
        &mut self,
        line: u64,
        raw: &str,
        code: Option<i64>,
        error: &str,
    ) -> std::io::Result<()> {
        if let Some(s) = self.items.as_mut() {
            s.out.write_all(raw.as_bytes())?;
            s.out.write_all(b"\n")?;
            s.len += raw.len() as u64 + 1;
        }
        self.reason(line, code, error)
    }

    fn reason(&mut self, line: u64, code: Option<i64>, error: &str) -> std::io::Result<()> {
        if let Some(s) = self.reasons.as_mut() {
            s.line(&json!({ "line": line, "code": code, "error": error }))?;
        }
        Ok(())
    }

    fn sync(&mut self) -> std::io::Result<()> {
        for s in [self.items.as_mut(), self.reasons.as_mut()]
            .into_iter()
            .flatten()
        {
            s.sync()?;
        }
        Ok(())
    }
}

/// Watches for Ctrl-C and SIGTERM: the first asks the job to stop reading, the second to stop
/// waiting for the calls in flight.
fn watch_signals(stop: Arc<AtomicBool>, abandon: Arc<tokio::sync::Notify>, quiet: bool) {
    tokio::spawn(async move {
        let mut hits = 0u32;
        loop {
            #[cfg(unix)]
            {
                let mut term =
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        Ok(s) => s,
                        Err(_) => return,
                    };
                tokio::select! {
                    r = tokio::signal::ctrl_c() => if r.is_err() { return },
                    _ = term.recv() => {},
                }
            }
            #[cfg(not(unix))]
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            hits += 1;
            if hits == 1 {
                stop.store(true, Ordering::SeqCst);
                if !quiet {
                    #[allow(clippy::print_stderr)]
                    {
                        eprintln!(
                            "tim: stopping: no new lines are read; the calls in flight finish (Ctrl-C again to abandon them)"
                        );
                    }
                }
            } else {
                abandon.notify_one();
                return;
            }
        }
    });
}

/// Runs a bulk job of `E` over `source` with `client`.
#[allow(clippy::print_stderr)]
pub(crate) async fn run<E: Batch, T: Transport>(
    client: &Client<T>,
    source: Source,
    bulk: &BulkArgs,
    quiet: bool,
) -> Result<(), Failure> {
    let reads = E::INFO.batch.and_then(|b| b.response_field).is_some();
    let endpoint = E::INFO.id.to_string();
    if bulk.output.is_some() && !reads {
        return Err(Failure::Usage(format!(
            "--output is for reads; {endpoint} answers no results"
        )));
    }
    // The checkpoint: exact only for a file input, and for reads with an output file.
    let mut checkpoint = match &bulk.checkpoint {
        None => None,
        Some(cp) => {
            let Source::File(path) = &source else {
                return Err(Failure::Usage(
                    "--checkpoint needs --file FILE (standard input cannot be read again to resume)"
                        .into(),
                ));
            };
            if reads && bulk.output.is_none() {
                return Err(Failure::Usage(
                    "a resumable read needs --output FILE (results are appended to it exactly once; standard output cannot be cut back on resume)".into(),
                ));
            }
            let identity = InputIdentity::of(path)
                .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
            Some(
                Checkpoint::open(
                    cp,
                    &endpoint,
                    identity,
                    bulk.output.as_deref(),
                    bulk.failed.as_deref(),
                )
                .map_err(|e| Failure::Usage(e.to_string()))?,
            )
        }
    };
    let mark = checkpoint
        .as_ref()
        .map(Checkpoint::mark)
        .unwrap_or_default();
    let open_sink = |path: &Path, len: u64| -> Result<Sink, Failure> {
        let f = match &checkpoint {
            Some(cp) => cp
                .restore(path, len)
                .map_err(|e| Failure::Usage(e.to_string()))?,
            None => File::create(path)
                .map_err(|e| Failure::Usage(format!("cannot create {}: {e}", path.display())))?,
        };
        Sink::file(f, len)
            .map_err(|e| Failure::Usage(format!("cannot open {}: {e}", path.display())))
    };
    let mut output = match &bulk.output {
        Some(p) => open_sink(p, mark.output_len)?,
        None => Sink::stdout(),
    };
    let mut failures = Failures {
        items: bulk
            .failed
            .as_deref()
            .map(|p| open_sink(p, mark.failed_len))
            .transpose()?,
        reasons: bulk
            .failed
            .as_deref()
            .map(|p| open_sink(&reasons_path(p), mark.reasons_len))
            .transpose()?,
    };

    let (reader, total_bytes): (Box<dyn BufRead + Send>, Option<u64>) = match &source {
        Source::Stdin => (Box::new(BufReader::new(std::io::stdin())), None),
        Source::File(path) => {
            let f = File::open(path)
                .map_err(|e| Failure::Usage(format!("cannot open {}: {e}", path.display())))?;
            let len = f.metadata().ok().map(|m| m.len());
            (Box::new(BufReader::with_capacity(64 * 1024, f)), len)
        }
        Source::Args(accounts) => {
            let mut text = Vec::new();
            for a in accounts {
                serde_json::to_writer(&mut text, a).unwrap_or_default();
                text.push(b'\n');
            }
            (Box::new(std::io::Cursor::new(text)), None)
        }
    };
    if mark.through_line > 0 && !quiet {
        eprintln!(
            "tim: resuming: lines 1-{} were done in an earlier run and are skipped",
            mark.through_line
        );
    }

    let intake = Arc::new(Mutex::new(Intake::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let abandon = Arc::new(tokio::sync::Notify::new());
    watch_signals(Arc::clone(&stop), Arc::clone(&abandon), quiet);
    let bytes_read = Arc::new(AtomicU64::new(0));

    // The input: (line, item) pairs, read only as the engine asks for them.
    let items = {
        let intake = Arc::clone(&intake);
        let stop = Arc::clone(&stop);
        let bytes_read = Arc::clone(&bytes_read);
        let mut lines = Lines::new(reader);
        let skip = mark.through_line;
        stream::iter(std::iter::from_fn(move || {
            loop {
                if stop.load(Ordering::SeqCst) {
                    return None;
                }
                let next = lines.next_line();
                let mut intake = intake.lock().unwrap_or_else(|e| e.into_inner());
                match next {
                    Ok(Some((n, raw))) => {
                        bytes_read.fetch_add(raw.len() as u64 + 1, Ordering::Relaxed);
                        intake.last_line = n;
                        if n <= skip {
                            continue;
                        }
                        match parse_line::<E>(n, raw) {
                            Ok(Some(item)) => return Some((n, item)),
                            Ok(None) => {}
                            Err(e) => intake.bad.push_back(e),
                        }
                    }
                    Ok(None) => {
                        intake.finished = true;
                        return None;
                    }
                    Err(e) => {
                        intake.read_error = Some(e);
                        return None;
                    }
                }
            }
        }))
    };
    let progress = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = match total_bytes {
            Some(n) => indicatif::ProgressBar::new(n).with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {bar:30} {bytes}/{total_bytes} {msg} ({elapsed}, eta {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            ),
            None => indicatif::ProgressBar::new_spinner(),
        };
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar
    });

    let started = Instant::now();
    let mut tally = Tally {
        skipped_lines: mark.through_line,
        ..Tally::default()
    };
    let mut io_error: Option<String> = None;
    let mut through = mark.through_line;
    let mut last_commit = Instant::now();
    let mut interrupted = false;

    // Writes the bad lines read up to `line` (all of them when `None`), in line order.
    let drain_bad = |failures: &mut Failures,
                     tally: &mut Tally,
                     io_error: &mut Option<String>,
                     up_to: Option<u64>| {
        let mut intake = intake.lock().unwrap_or_else(|e| e.into_inner());
        while intake
            .bad
            .front()
            .is_some_and(|b| up_to.is_none_or(|l| b.line <= l))
        {
            let Some(bad) = intake.bad.pop_front() else {
                break;
            };
            tally.bad_lines += 1;
            if !quiet {
                say(progress.as_ref(), format!("tim: {bad}"));
            }
            if let Err(e) = failures.write_raw(bad.line, &bad.raw, bad.code, &bad.message) {
                io_error.get_or_insert(format!("cannot write the failed file: {e}"));
            }
        }
    };

    let engine = client.chunks_keyed::<E, u64, _>(items);
    let mut engine = Box::pin(engine);
    loop {
        let next = tokio::select! {
            next = engine.next() => next,
            () = abandon.notified() => {
                interrupted = true;
                break;
            }
        };
        let Some(chunk) = next else { break };
        let last_line = chunk
            .parts
            .iter()
            .flat_map(|p| p.keys.iter().copied())
            .max()
            .unwrap_or(through);
        // Lines that could not be sent come first, in their place.
        drain_bad(&mut failures, &mut tally, &mut io_error, Some(last_line));
        for part in chunk.parts {
            tally.calls += 1;
            tally.items += part.keys.len() as u64;
            record_part::<E>(
                part,
                &mut output,
                &mut failures,
                &mut tally,
                &mut io_error,
                quiet,
                progress.as_ref(),
            );
        }
        through = through.max(last_line);
        if let Some(cp) = checkpoint.as_mut() {
            if last_commit.elapsed() >= COMMIT_EVERY {
                commit(cp, through, &mut output, &mut failures, &mut io_error);
                last_commit = Instant::now();
            }
        }
        if let Some(bar) = &progress {
            bar.set_position(bytes_read.load(Ordering::Relaxed));
            bar.set_message(format!("{} items, {} calls", tally.items, tally.calls));
        }
    }
    drop(engine);
    interrupted |= stop.load(Ordering::SeqCst);
    let (read_error, finished, last_line) = {
        let mut i = intake.lock().unwrap_or_else(|e| e.into_inner());
        (i.read_error.take(), i.finished, i.last_line)
    };
    if finished && !interrupted {
        // Bad lines after the last item, and blank lines at the end, are accounted for too.
        drain_bad(&mut failures, &mut tally, &mut io_error, None);
        through = through.max(last_line);
    }
    if let Some(bar) = progress.as_ref() {
        bar.finish_and_clear();
    }
    match checkpoint.as_mut() {
        Some(cp) => commit(cp, through, &mut output, &mut failures, &mut io_error),
        None => {
            if let Err(e) = output.sync().and_then(|()| failures.sync()) {
                io_error.get_or_insert(format!("cannot write results: {e}"));
            }
        }
    }

    let secs = started.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        tally.calls as f64 / secs
    } else {
        0.0
    };
    let limit = E::INFO
        .rate
        .per_second
        .map(|c| format!(", documented limit {c}/s"))
        .unwrap_or_default();
    let skipped = if tally.skipped_lines > 0 {
        format!(", lines 1-{} skipped (checkpoint)", tally.skipped_lines)
    } else {
        String::new()
    };
    if !quiet {
        let memory = peak_rss_mib()
            .map(|m| format!(", peak memory {m:.1} MiB"))
            .unwrap_or_default();
        eprintln!(
            "tim: {endpoint}: {} items, {} calls in {secs:.1} s ({rate:.1} calls/s{limit}){skipped}, {} failed items, {} bad lines{memory}",
            tally.items, tally.calls, tally.failed_items, tally.bad_lines
        );
    }
    if let Some(e) = read_error {
        return Err(Failure::Transport(format!(
            "reading {} failed: {e}",
            source.describe()
        )));
    }
    if let Some(e) = io_error {
        return Err(Failure::Transport(e));
    }
    if interrupted {
        let how = if bulk.checkpoint.is_some() {
            format!("every line up to {through} is accounted for; rerun the same command to resume")
        } else {
            format!(
                "lines up to {through} were handled; without --checkpoint a rerun starts over (harmless for {endpoint}, which is idempotent, but slower)"
            )
        };
        return Err(Failure::Interrupted(format!("interrupted: {how}")));
    }
    if tally.failed_items + tally.bad_lines > 0 {
        let failed = match &bulk.failed {
            Some(p) => format!(
                " (written to {} in the input's shape, reasons in {}; fix or retry them with the same command and --file {})",
                p.display(),
                reasons_path(p).display(),
                p.display()
            ),
            None => " (use --failed FILE to keep them)".into(),
        };
        return Err(Failure::BulkFailed(format!(
            "{} failed items and {} bad lines{failed}",
            tally.failed_items, tally.bad_lines
        )));
    }
    Ok(())
}

/// Writes what one call came to: results for a success, the items for a failure.
fn record_part<E: Batch>(
    part: Settled<E, u64>,
    output: &mut Sink,
    failures: &mut Failures,
    tally: &mut Tally,
    io_error: &mut Option<String>,
    quiet: bool,
    progress: Option<&indicatif::ProgressBar>,
) {
    match part.result {
        Ok(response) => {
            for f in E::item_failures(&response) {
                tally.failed_items += 1;
                let line = part
                    .keys
                    .iter()
                    .zip(&part.items)
                    .find(|(_, item)| item_names(*item, &f.key))
                    .map(|(l, _)| *l)
                    .unwrap_or(0);
                let item = part
                    .keys
                    .iter()
                    .position(|l| *l == line)
                    .and_then(|i| serde_json::to_value(&part.items[i]).ok())
                    .unwrap_or_else(|| Value::String(f.key.clone()));
                let code = f.code.map(|c| c.code());
                if let Err(e) = failures.write(line, &item, code, &f.info) {
                    io_error.get_or_insert(format!("cannot write the failed file: {e}"));
                }
            }
            let Some(field) = E::INFO.batch.and_then(|b| b.response_field) else {
                return;
            };
            let value = serde_json::to_value(&response).unwrap_or(Value::Null);
            if let Some(Value::Array(items)) = value.get(field) {
                for item in items {
                    if let Err(e) = output.line(item) {
                        io_error.get_or_insert(format!("cannot write results: {e}"));
                    }
                }
            }
        }
        Err(error) => {
            tally.failed_items += part.keys.len() as u64;
            let code = error.code().map(|c| c.code());
            let message = crate::client::failure(&error).message().to_owned();
            if !quiet {
                let lines = match (part.keys.first(), part.keys.last()) {
                    (Some(a), Some(b)) if a == b => format!("line {a}"),
                    (Some(a), Some(b)) => format!("lines {a}-{b} ({} items)", part.keys.len()),
                    _ => String::new(),
                };
                say(progress, format!("tim: {lines} failed: {message}"));
            }
            for (line, item) in part.keys.iter().zip(&part.items) {
                let item = serde_json::to_value(item).unwrap_or(Value::Null);
                if let Err(e) = failures.write(*line, &item, code, &message) {
                    io_error.get_or_insert(format!("cannot write the failed file: {e}"));
                }
            }
        }
    }
}

/// Whether `item` is the one an answer names `key` (the account, plain or as `To_Account`).
fn item_names(item: &impl serde::Serialize, key: &str) -> bool {
    match serde_json::to_value(item) {
        Ok(Value::String(s)) => s == key,
        Ok(Value::Object(o)) => o.values().any(|v| v.as_str() == Some(key)),
        _ => false,
    }
}

/// Makes everything written so far durable, then records how far the input is accounted for.
fn commit(
    cp: &mut Checkpoint,
    through: u64,
    output: &mut Sink,
    failures: &mut Failures,
    io_error: &mut Option<String>,
) {
    if let Err(e) = output.sync().and_then(|()| failures.sync()) {
        io_error.get_or_insert(format!("cannot write results: {e}"));
        // Nothing is recorded that is not on disk.
        return;
    }
    let mark = Mark {
        through_line: through,
        output_len: output.len,
        failed_len: failures.items.as_ref().map_or(0, |s| s.len),
        reasons_len: failures.reasons.as_ref().map_or(0, |s| s.len),
    };
    if let Err(e) = cp.record(mark) {
        io_error.get_or_insert(e.to_string());
    }
}

/// The process's peak resident memory (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
