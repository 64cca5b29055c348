//! Checkpoints of bulk jobs: how far a job got, exactly, so that a rerun after a crash, a
//! SIGKILL or Ctrl-C goes on where it stopped and every item ends in exactly one place.
//!
//! The file is JSON Lines, each line appended and flushed to disk (`fsync`) before the next step:
//! a header naming the endpoint, the input (canonical path, size and SHA-256 of its content) and
//! the files results go to, then one record per commit: every input line up to `through_line`
//! is accounted for, and the output and failed files then held `output_len` and `failed_len`
//! bytes (written and synced to disk before the record). A rerun checks that the input is the
//! same, cuts the output files back to the recorded lengths (dropping whatever a killed run wrote
//! after its last record) and skips the lines up to `through_line`: nothing is lost and nothing
//! is written twice. A torn last record (the process died while writing it) is ignored.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What the input is: where it was, how long, and what it held.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct InputIdentity {
    pub(crate) path: String,
    pub(crate) size: u64,
    pub(crate) sha256: String,
}

impl InputIdentity {
    /// Reads `path` once to fingerprint it.
    pub(crate) fn of(path: &Path) -> std::io::Result<Self> {
        let canonical = std::fs::canonicalize(path)?;
        let mut f = File::open(&canonical)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            size += n as u64;
            hasher.update(&buf[..n]);
        }
        let sha256 = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Self {
            path: canonical.display().to_string(),
            size,
            sha256,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Header {
    tim_checkpoint: u32,
    endpoint: String,
    input: InputIdentity,
    output: Option<String>,
    failed: Option<String>,
}

/// One commit: the input up to `through_line` is accounted for, and the files hold this much.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) through_line: u64,
    pub(crate) output_len: u64,
    pub(crate) failed_len: u64,
    pub(crate) reasons_len: u64,
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
    #[error(
        "checkpoint {path} belongs to another job ({found}); use another checkpoint file or delete it to start over"
    )]
    OtherJob { path: PathBuf, found: String },
    #[error(
        "the input changed since checkpoint {path} was written (it had {was_size} bytes with SHA-256 {was_sha}, it now has {now_size} bytes with SHA-256 {now_sha}); resuming would skip or repeat the wrong lines. Delete the checkpoint to start over"
    )]
    InputChanged {
        path: PathBuf,
        was_size: u64,
        was_sha: String,
        now_size: u64,
        now_sha: String,
    },
    #[error(
        "{file} is shorter than checkpoint {path} says it was ({len} bytes, {recorded} recorded); it was changed since, so the job cannot resume exactly. Delete the checkpoint to start over"
    )]
    Truncated {
        path: PathBuf,
        file: String,
        len: u64,
        recorded: u64,
    },
}

/// An open checkpoint: where the job got to, and the file to record progress in.
#[derive(Debug)]
pub(crate) struct Checkpoint {
    path: PathBuf,
    file: File,
    mark: Mark,
}

/// The canonical form of a path that may not exist yet (its folder must).
pub(crate) fn canonical(path: &Path) -> std::io::Result<PathBuf> {
    if let Ok(p) = std::fs::canonicalize(path) {
        return Ok(p);
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => std::fs::canonicalize(p)?,
        _ => std::env::current_dir()?,
    };
    Ok(parent.join(path.file_name().unwrap_or_default()))
}

impl Checkpoint {
    /// Opens (or creates) the checkpoint of a job of `endpoint` over `input`, writing results to
    /// `output` and failures to `failed`.
    pub(crate) fn open(
        path: &Path,
        endpoint: &str,
        input: InputIdentity,
        output: Option<&Path>,
        failed: Option<&Path>,
    ) -> Result<Self, CheckpointError> {
        let io = |source| CheckpointError::Io {
            path: path.to_owned(),
            source,
        };
        let name = |p: Option<&Path>| -> Result<Option<String>, CheckpointError> {
            p.map(|p| canonical(p).map(|c| c.display().to_string()))
                .transpose()
                .map_err(io)
        };
        let header = Header {
            tim_checkpoint: 2,
            endpoint: endpoint.to_owned(),
            input,
            output: name(output)?,
            failed: name(failed)?,
        };
        let mut mark = Mark::default();
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
                    Ok(h)
                        if h.endpoint == header.endpoint
                            && h.input.sha256 != header.input.sha256 =>
                    {
                        return Err(CheckpointError::InputChanged {
                            path: path.to_owned(),
                            was_size: h.input.size,
                            was_sha: h.input.sha256,
                            now_size: header.input.size,
                            now_sha: header.input.sha256,
                        });
                    }
                    Ok(h) if h.endpoint == header.endpoint && h.input == header.input => {
                        return Err(CheckpointError::OtherJob {
                            path: path.to_owned(),
                            found: format!(
                                "the same input with other output files: --output {} --failed {}",
                                h.output.as_deref().unwrap_or("(none)"),
                                h.failed.as_deref().unwrap_or("(none)")
                            ),
                        });
                    }
                    Ok(h) => {
                        return Err(CheckpointError::OtherJob {
                            path: path.to_owned(),
                            found: format!("{} over {}", h.endpoint, h.input.path),
                        });
                    }
                    // An empty or torn header: nothing was recorded yet.
                    Err(_) => {}
                }
            }
            if !needs_header {
                for line in lines {
                    let Ok(line) = line else { break };
                    if let Ok(m) = serde_json::from_str::<Mark>(&line) {
                        mark = m;
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
            mark,
        })
    }

    /// Where the last run got to (all zero for a new job).
    pub(crate) fn mark(&self) -> Mark {
        self.mark
    }

    /// Cuts `file` back to `len` bytes (what it held at the last record), or refuses if it is
    /// shorter. A missing file is created.
    pub(crate) fn restore(&self, file: &Path, len: u64) -> Result<File, CheckpointError> {
        let io = |source| CheckpointError::Io {
            path: self.path.clone(),
            source,
        };
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(file)
            .map_err(io)?;
        let now = f.metadata().map_err(io)?.len();
        if now < len {
            return Err(CheckpointError::Truncated {
                path: self.path.clone(),
                file: file.display().to_string(),
                len: now,
                recorded: len,
            });
        }
        f.set_len(len).map_err(io)?;
        f.sync_all().map_err(io)?;
        let mut f = f;
        std::io::Seek::seek(&mut f, std::io::SeekFrom::End(0)).map_err(io)?;
        Ok(f)
    }

    /// Records `mark` durably before returning. The files it counts must be on disk already.
    pub(crate) fn record(&mut self, mark: Mark) -> Result<(), CheckpointError> {
        if mark == self.mark {
            return Ok(());
        }
        let io = |source| CheckpointError::Io {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(&mark).map_err(|e| io(e.into()))?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        self.mark = mark;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tim-cp-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn marks_survive_reopening_and_a_torn_record_is_ignored() {
        let dir = tmp("marks");
        let input = dir.join("in.jsonl");
        std::fs::write(&input, "a\nb\n").unwrap();
        let cp = dir.join("job.cp");
        let id = InputIdentity::of(&input).unwrap();
        let mut c = Checkpoint::open(&cp, "s/c", id.clone(), None, None).unwrap();
        assert_eq!(c.mark(), Mark::default());
        let m = Mark {
            through_line: 2,
            output_len: 10,
            failed_len: 3,
            reasons_len: 4,
        };
        c.record(m).unwrap();
        drop(c);
        // A torn record after it.
        let mut f = OpenOptions::new().append(true).open(&cp).unwrap();
        f.write_all(br#"{"through_line":9,"outp"#).unwrap();
        drop(f);
        let c = Checkpoint::open(&cp, "s/c", id.clone(), None, None).unwrap();
        assert_eq!(c.mark(), m);
        // A relative path to the same file is the same job.
        let c = Checkpoint::open(&cp, "s/c", InputIdentity::of(&input).unwrap(), None, None);
        assert!(c.is_ok());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_changed_input_or_another_job_is_refused() {
        let dir = tmp("changed");
        let input = dir.join("in.jsonl");
        std::fs::write(&input, "a\nb\n").unwrap();
        let cp = dir.join("job.cp");
        Checkpoint::open(&cp, "s/c", InputIdentity::of(&input).unwrap(), None, None).unwrap();
        std::fs::write(&input, "a\nb\nc\n").unwrap();
        let e = Checkpoint::open(&cp, "s/c", InputIdentity::of(&input).unwrap(), None, None)
            .unwrap_err();
        assert!(matches!(e, CheckpointError::InputChanged { .. }), "{e}");
        assert!(e.to_string().contains("input changed"), "{e}");
        let e = Checkpoint::open(
            &cp,
            "s/other",
            InputIdentity::of(&input).unwrap(),
            None,
            None,
        )
        .unwrap_err();
        assert!(matches!(e, CheckpointError::OtherJob { .. }), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn restore_cuts_back_and_refuses_a_shorter_file() {
        let dir = tmp("restore");
        let input = dir.join("in.jsonl");
        std::fs::write(&input, "a\n").unwrap();
        let out = dir.join("out.jsonl");
        std::fs::write(&out, "0123456789").unwrap();
        let c = Checkpoint::open(
            &dir.join("cp"),
            "s/c",
            InputIdentity::of(&input).unwrap(),
            Some(&out),
            None,
        )
        .unwrap();
        let mut f = c.restore(&out, 4).unwrap();
        f.write_all(b"xy").unwrap();
        drop(f);
        assert_eq!(std::fs::read(&out).unwrap(), b"0123xy");
        assert!(matches!(
            c.restore(&out, 100),
            Err(CheckpointError::Truncated { .. })
        ));
        std::fs::remove_dir_all(&dir).ok();
    }
}
