//! Checkpoints of bulk jobs: which chunks are finished, so that a rerun after a crash or Ctrl-C
//! skips them.
//!
//! The file is JSON Lines, appended and flushed to disk (`fsync`) as each chunk finishes: a
//! header naming the command and the input, then one line per finished chunk. Chunks are
//! numbered in input order and hold the same items on every run over the same input (the first
//! 100 valid lines, the next 100, ...), so a chunk number identifies its items. A torn last line
//! (the process died while writing it) is ignored: that chunk is simply redone, which is
//! harmless because only idempotent endpoints run in bulk.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Header {
    tim_checkpoint: u32,
    command: String,
    input: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Done {
    chunk: u64,
    first_line: u64,
    last_line: u64,
    items: usize,
    failed: bool,
}

/// Why a checkpoint cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CheckpointError {
    #[error("checkpoint {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("checkpoint {path} belongs to another job ({found}); use another file or delete it")]
    OtherJob { path: PathBuf, found: String },
}

/// An open checkpoint: the chunks already finished, and the file to record new ones in.
#[derive(Debug)]
pub(crate) struct Checkpoint {
    path: PathBuf,
    file: File,
    done: BTreeSet<u64>,
}

impl Checkpoint {
    /// Opens (or creates) the checkpoint for `command` over `input`.
    pub(crate) fn open(path: &Path, command: &str, input: &str) -> Result<Self, CheckpointError> {
        let io = |source| CheckpointError::Io {
            path: path.to_owned(),
            source,
        };
        let header = Header {
            tim_checkpoint: 1,
            command: command.to_owned(),
            input: input.to_owned(),
        };
        let mut done = BTreeSet::new();
        let existing = match File::open(path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(e)),
        };
        let mut needs_header = true;
        if let Some(f) = existing {
            let mut lines = BufReader::new(f).lines();
            if let Some(first) = lines.next() {
                let first = first.map_err(io)?;
                match serde_json::from_str::<Header>(&first) {
                    Ok(h) if h == header => needs_header = false,
                    Ok(h) => {
                        return Err(CheckpointError::OtherJob {
                            path: path.to_owned(),
                            found: format!("{} over {}", h.command, h.input),
                        });
                    }
                    // An empty or torn header: nothing was recorded yet.
                    Err(_) => {}
                }
            }
            if !needs_header {
                for line in lines {
                    let Ok(line) = line else { break };
                    if let Ok(d) = serde_json::from_str::<Done>(&line) {
                        done.insert(d.chunk);
                    }
                }
            }
        }
        let mut file = if needs_header {
            let mut f = File::create(path).map_err(io)?;
            serde_json::to_writer(&mut f, &header).map_err(|e| io(e.into()))?;
            f.write_all(b"\n").map_err(io)?;
            f.sync_all().map_err(io)?;
            f
        } else {
            OpenOptions::new().append(true).open(path).map_err(io)?
        };
        // A torn last line must not swallow the next record.
        if !needs_header {
            file.write_all(b"\n").map_err(io)?;
        }
        Ok(Self {
            path: path.to_owned(),
            file,
            done,
        })
    }

    /// Whether chunk `chunk` finished in an earlier run.
    #[cfg(test)]
    pub(crate) fn is_done(&self, chunk: u64) -> bool {
        self.done.contains(&chunk)
    }

    /// The chunks finished so far.
    pub(crate) fn done_chunks(&self) -> BTreeSet<u64> {
        self.done.clone()
    }

    /// How many chunks finished in earlier runs.
    pub(crate) fn done_count(&self) -> usize {
        self.done.len()
    }

    /// Records a finished chunk durably before returning.
    pub(crate) fn record(
        &mut self,
        chunk: u64,
        first_line: u64,
        last_line: u64,
        items: usize,
        failed: bool,
    ) -> Result<(), CheckpointError> {
        let d = Done {
            chunk,
            first_line,
            last_line,
            items,
            failed,
        };
        let mut line = serde_json::to_vec(&d).map_err(|e| CheckpointError::Io {
            path: self.path.clone(),
            source: e.into(),
        })?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|source| CheckpointError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.done.insert(chunk);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("tim-cp-{}-{name}", std::process::id()))
    }

    #[test]
    fn records_survive_reopening_and_torn_lines_are_ignored() {
        let p = tmp("a");
        let _ = std::fs::remove_file(&p);
        let mut cp = Checkpoint::open(&p, "im_add_tag", "users.jsonl").unwrap();
        assert_eq!(cp.done_count(), 0);
        cp.record(0, 1, 100, 100, false).unwrap();
        cp.record(2, 201, 300, 100, true).unwrap();
        drop(cp);
        // A torn record, as if the process died mid-write.
        OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(br#"{"chunk":1,"fir"#)
            .unwrap();
        let mut cp = Checkpoint::open(&p, "im_add_tag", "users.jsonl").unwrap();
        assert!(cp.is_done(0) && cp.is_done(2) && !cp.is_done(1));
        cp.record(1, 101, 200, 100, false).unwrap();
        drop(cp);
        let cp = Checkpoint::open(&p, "im_add_tag", "users.jsonl").unwrap();
        assert_eq!(cp.done_count(), 3);
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn another_jobs_checkpoint_is_refused() {
        let p = tmp("b");
        let _ = std::fs::remove_file(&p);
        drop(Checkpoint::open(&p, "im_add_tag", "a.jsonl").unwrap());
        let e = Checkpoint::open(&p, "im_remove_tag", "a.jsonl").unwrap_err();
        assert!(e.to_string().contains("another job"), "{e}");
        std::fs::remove_file(&p).unwrap();
    }
}
