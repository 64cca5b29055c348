//! Bulk jobs: stream a JSON Lines file, chunk it to the documented size, run the chunks
//! concurrently under the client's rate limiter, and account for every line.
//!
//! Memory stays flat: lines are read as chunks are needed, and at most `--concurrency` chunks
//! are in flight. Every line ends in exactly one place: applied (or, for reads, written to
//! stdout), or written to `--failed` with its line number and error code (bad lines and the
//! items of chunks that failed after retries). With `--checkpoint`, each chunk that succeeded is
//! recorded durably, and a rerun over the same input skips it.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use futures_util::{StreamExt as _, stream};
use serde_json::{Value, json};
use tim_core::{Batch, Client, Error, Transport};

use crate::Failure;
use crate::args::BulkArgs;
use crate::bulk_input::{LineError, Lines, parse_line};
use crate::checkpoint::Checkpoint;

/// One piece of the input: a chunk to send, or a line that cannot be sent.
enum Piece<I> {
    Chunk {
        index: u64,
        items: Vec<I>,
        /// Line number of each item.
        lines: Vec<u64>,
    },
    Bad(LineError),
}

/// Reads pieces lazily: the next chunk is only read when the job asks for it.
struct Pieces<E: Batch, R> {
    lines: Lines<R>,
    next_index: u64,
    pending_bad: std::collections::VecDeque<LineError>,
    read_error: Option<std::io::Error>,
    bytes_read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    done: bool,
    _endpoint: std::marker::PhantomData<E>,
}

impl<E: Batch, R: BufRead> Iterator for Pieces<E, R> {
    type Item = Piece<E::Item>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(bad) = self.pending_bad.pop_front() {
            return Some(Piece::Bad(bad));
        }
        if self.done {
            return None;
        }
        let mut items = Vec::with_capacity(E::MAX_ITEMS);
        let mut lines = Vec::with_capacity(E::MAX_ITEMS);
        while items.len() < E::MAX_ITEMS {
            match self.lines.next_line() {
                Ok(Some((n, raw))) => {
                    self.bytes_read
                        .fetch_add(raw.len() as u64 + 1, std::sync::atomic::Ordering::Relaxed);
                    match parse_line::<E>(n, raw) {
                        Ok(Some(item)) => {
                            items.push(item);
                            lines.push(n);
                        }
                        Ok(None) => {}
                        Err(e) => self.pending_bad.push_back(e),
                    }
                }
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    self.read_error = Some(e);
                    self.done = true;
                    break;
                }
            }
        }
        if items.is_empty() {
            return self.pending_bad.pop_front().map(Piece::Bad);
        }
        let index = self.next_index;
        self.next_index += 1;
        Some(Piece::Chunk {
            index,
            items,
            lines,
        })
    }
}

/// A piece on its way: a chunk to send, or something already decided.
enum Job<E: Batch> {
    Send {
        index: u64,
        items: Vec<E::Item>,
        lines: Vec<u64>,
    },
    Ready(Done<E>),
}

/// What happened to one piece.
enum Done<E: Batch> {
    Skipped {
        items: usize,
    },
    Ok {
        index: u64,
        lines: Vec<u64>,
        response: E::Response,
    },
    Failed {
        lines: Vec<u64>,
        items: Vec<E::Item>,
        error: Error,
    },
    Bad(LineError),
}

/// Counts for the summary line.
#[derive(Default)]
struct Tally {
    items: u64,
    calls: u64,
    skipped_items: u64,
    failed_items: u64,
    bad_lines: u64,
}

#[allow(clippy::print_stdout)]
fn emit_results<E: Batch>(out: &mut impl Write, response: &E::Response) -> std::io::Result<()> {
    let Some(field) = E::INFO.batch.and_then(|b| b.response_field) else {
        return Ok(());
    };
    let value = serde_json::to_value(response).unwrap_or(Value::Null);
    if let Some(Value::Array(items)) = value.get(field) {
        for item in items {
            serde_json::to_writer(&mut *out, item)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// First and last line numbers of a chunk.
fn span(lines: &[u64]) -> (u64, u64) {
    (
        lines.first().copied().unwrap_or(0),
        lines.last().copied().unwrap_or(0),
    )
}

/// Prints a line on stderr without breaking the progress bar.
#[allow(clippy::print_stderr)]
fn say(progress: Option<&indicatif::ProgressBar>, line: String) {
    match progress {
        Some(bar) => bar.println(line),
        None => eprintln!("{line}"),
    }
}

/// Appends one JSON line to the failed file, if there is one; keeps the first write error.
fn write_failed(out: &mut Option<BufWriter<File>>, record: &Value, io_error: &mut Option<String>) {
    if let Some(f) = out.as_mut() {
        let written = serde_json::to_writer(&mut *f, record)
            .map_err(std::io::Error::from)
            .and_then(|()| f.write_all(b"\n"));
        if let Err(e) = written {
            io_error.get_or_insert(format!("cannot write the failed file: {e}"));
        }
    }
}

/// Runs a bulk job of `E` over `bulk.file` with `client`.
#[allow(clippy::print_stderr)]
pub(crate) async fn run<E: Batch, T: Transport>(
    client: &Client<T>,
    bulk: &BulkArgs,
    quiet: bool,
) -> Result<(), Failure> {
    let path = bulk
        .file
        .as_deref()
        .ok_or_else(|| Failure::Usage("--file is required for a bulk job".into()))?;
    let (reader, total_bytes): (Box<dyn BufRead>, Option<u64>) = if path == Path::new("-") {
        (Box::new(BufReader::new(std::io::stdin())), None)
    } else {
        let f = File::open(path)
            .map_err(|e| Failure::Usage(format!("cannot open {}: {e}", path.display())))?;
        let len = f.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::with_capacity(64 * 1024, f)), len)
    };
    let mut checkpoint = match &bulk.checkpoint {
        Some(p) => Some(
            Checkpoint::open(p, &E::INFO.id.to_string(), &path.display().to_string())
                .map_err(|e| Failure::Usage(e.to_string()))?,
        ),
        None => None,
    };
    let mut failed_out = match &bulk.failed {
        Some(p) => Some(BufWriter::new(File::create(p).map_err(|e| {
            Failure::Usage(format!("cannot create {}: {e}", p.display()))
        })?)),
        None => None,
    };
    let bytes_read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let pieces = Pieces::<E, _> {
        lines: Lines::new(reader),
        next_index: 0,
        pending_bad: Default::default(),
        read_error: None,
        bytes_read: bytes_read.clone(),
        done: false,
        _endpoint: std::marker::PhantomData,
    };
    let progress = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = match total_bytes {
            Some(n) => indicatif::ProgressBar::new(n).with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {bar:30} {percent:>3}% {msg} ({elapsed}, eta {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            ),
            None => indicatif::ProgressBar::new_spinner(),
        };
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar
    });

    let started = Instant::now();
    // The chunks finished in earlier runs, copied so that the stream borrows nothing that the
    // loop below updates.
    let done_before = checkpoint
        .as_ref()
        .map(Checkpoint::done_chunks)
        .unwrap_or_default();
    if let Some(cp) = &checkpoint {
        if cp.done_count() > 0 && !quiet {
            eprintln!(
                "tim: resuming: {} chunks already done in an earlier run are skipped",
                cp.done_count()
            );
        }
    }
    let mut pieces = pieces;
    let mut tally = Tally::default();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());

    let jobs = stream::iter(std::iter::from_fn(|| {
        pieces.next().map(|p| match p {
            Piece::Chunk { index, items, .. } if done_before.contains(&index) => {
                Job::<E>::Ready(Done::Skipped { items: items.len() })
            }
            Piece::Chunk {
                index,
                items,
                lines,
            } => Job::Send {
                index,
                items,
                lines,
            },
            Piece::Bad(b) => Job::Ready(Done::Bad(b)),
        })
    }))
    .map(|job| async move {
        match job {
            Job::Ready(done) => done,
            Job::Send {
                index,
                items,
                lines,
            } => {
                let request = E::request_from_items(items);
                match client.call_ref::<E>(&request).await {
                    Ok(response) => Done::Ok {
                        index,
                        lines,
                        response,
                    },
                    Err(error) => Done::Failed {
                        lines,
                        items: E::items(&request).to_vec(),
                        error,
                    },
                }
            }
        }
    })
    .buffer_unordered(usize::from(bulk.concurrency));
    let mut jobs = Box::pin(jobs);
    let mut io_error: Option<String> = None;
    while let Some(done) = jobs.next().await {
        match done {
            Done::Skipped { items } => {
                tally.items += items as u64;
                tally.skipped_items += items as u64;
            }
            Done::Ok {
                index,
                lines,
                response,
            } => {
                tally.items += lines.len() as u64;
                tally.calls += 1;
                if let Err(e) = emit_results::<E>(&mut out, &response) {
                    io_error.get_or_insert(format!("cannot write results: {e}"));
                }
                if let Some(cp) = checkpoint.as_mut() {
                    let (first, last) = span(&lines);
                    if let Err(e) = cp.record(index, first, last, lines.len(), false) {
                        io_error.get_or_insert(e.to_string());
                    }
                }
            }
            Done::Failed {
                lines,
                items,
                error,
            } => {
                tally.items += lines.len() as u64;
                tally.calls += 1;
                tally.failed_items += lines.len() as u64;
                let code = error.code().map(|c| c.code());
                let message = crate::client::failure(&error);
                if !quiet {
                    let (first, last) = span(&lines);
                    let n = lines.len();
                    say(
                        progress.as_ref(),
                        format!(
                            "tim: lines {first}-{last}: {n} items failed: {}",
                            message.message()
                        ),
                    );
                }
                for (line, item) in lines.iter().zip(items) {
                    let record = json!({ "line": line, "item": item, "code": code, "error": message.message() });
                    write_failed(&mut failed_out, &record, &mut io_error);
                }
            }
            Done::Bad(bad) => {
                tally.bad_lines += 1;
                if !quiet {
                    say(progress.as_ref(), format!("tim: {bad}"));
                }
                let record = json!({ "line": bad.line, "raw": bad.raw, "code": bad.code, "error": bad.message });
                write_failed(&mut failed_out, &record, &mut io_error);
            }
        }
        if let Some(bar) = &progress {
            bar.set_position(bytes_read.load(std::sync::atomic::Ordering::Relaxed));
            bar.set_message(format!("{} items, {} calls", tally.items, tally.calls));
        }
    }
    drop(jobs);
    let read_error = pieces.read_error.take();
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let _ = out.flush();
    if let Some(f) = failed_out.as_mut() {
        if let Err(e) = f.flush() {
            io_error.get_or_insert(format!("cannot write the failed file: {e}"));
        }
    }

    let secs = started.elapsed().as_secs_f64();
    let ceiling = E::INFO.rate.per_second.map(f64::from);
    let rate = if secs > 0.0 {
        tally.calls as f64 / secs
    } else {
        0.0
    };
    let share = ceiling
        .map(|c| {
            format!(
                ", {:.0}% of the documented {c:.0} calls/s",
                100.0 * rate / c
            )
        })
        .unwrap_or_default();
    let skipped = if tally.skipped_items > 0 {
        format!(", {} skipped (checkpoint)", tally.skipped_items)
    } else {
        String::new()
    };
    if !quiet {
        let memory = peak_rss_mib()
            .map(|m| format!(", peak memory {m:.1} MiB"))
            .unwrap_or_default();
        eprintln!(
            "tim: {}: {} items, {} calls in {secs:.1} s ({rate:.1} calls/s{share}){skipped}, {} failed items, {} bad lines{memory}",
            E::INFO.id,
            tally.items,
            tally.calls,
            tally.failed_items,
            tally.bad_lines
        );
    }
    if let Some(e) = read_error {
        return Err(Failure::Transport(format!(
            "reading {} failed: {e}",
            path.display()
        )));
    }
    if let Some(e) = io_error {
        return Err(Failure::Transport(e));
    }
    if tally.failed_items + tally.bad_lines > 0 {
        return Err(Failure::BulkFailed(format!(
            "{} failed items and {} bad lines{}",
            tally.failed_items,
            tally.bad_lines,
            bulk.failed
                .as_ref()
                .map(|p| format!(" (written to {})", p.display()))
                .unwrap_or_else(|| " (use --failed FILE to keep them)".into())
        )));
    }
    Ok(())
}

/// The process's peak resident memory (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
