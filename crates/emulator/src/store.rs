//! Durable state: a write-ahead log of [`Change`]s in JSON lines, fsynced before each answer.
//!
//! The file starts with one snapshot line and continues with one change per line:
//!
//! ```text
//! {"snapshot":{"node":...,"accounts":{...},...}}
//! {"change":{"add_tags":{"users":[["u1",["vip"]]]}}}
//! ```
//!
//! On open the file is replayed. A last line without its newline, or one that does not parse,
//! is a write that a crash interrupted: it was never fsynced, so never acknowledged, and it is
//! dropped. Any other bad line is corruption and refuses the start. The replayed state is then
//! compacted: written as a single snapshot to `FILE.tmp`, fsynced, renamed over `FILE`, and the
//! directory fsynced, so a crash at any point leaves either the old or the new file whole.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{Change, State};

/// One line of the log.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Snapshot(State),
    Change(Change),
}

/// Why a state file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateFileError {
    /// Reading, writing or syncing the file failed.
    #[error("state file {path}: {source}")]
    Io {
        /// The state file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A line before the last one does not parse: the file was damaged or is not a state file.
    #[error("state file {path}: line {line} is corrupt: {source}")]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
}

/// An open write-ahead log.
#[derive(Debug)]
pub(crate) struct Wal {
    file: File,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StateFileError + '_ {
    move |source| StateFileError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Opens (or creates) the log at `path`: replays it, compacts it, and returns the state and the
/// log ready for appends. `fresh` is the state used when the file does not exist yet.
pub(crate) fn open(path: &Path, fresh: State) -> Result<(State, Wal), StateFileError> {
    let mut state = fresh;
    match fs::read(path) {
        Ok(bytes) => {
            state = replay(path, &bytes, state)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(path)(e)),
    }
    compact(path, &state).map_err(io_err(path))?;
    let file = OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(io_err(path))?;
    Ok((state, Wal { file }))
}

fn replay(path: &Path, bytes: &[u8], mut state: State) -> Result<State, StateFileError> {
    let text = String::from_utf8_lossy(bytes);
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let last = lines.len().saturating_sub(1);
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(line) {
            Ok(Line::Snapshot(s)) => state = s,
            Ok(Line::Change(c)) => state.apply(c),
            Err(e) if i == last => {
                tracing::warn!(
                    line = i + 1,
                    complete,
                    error = %e,
                    "dropping a torn last line of the state file (an unacknowledged write)"
                );
            }
            Err(source) => {
                return Err(StateFileError::Corrupt {
                    path: path.to_owned(),
                    line: i + 1,
                    source,
                });
            }
        }
    }
    Ok(state)
}

fn compact(path: &Path, state: &State) -> io::Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    {
        let mut f = File::create(&tmp)?;
        let mut line =
            serde_json::to_vec(&Line::Snapshot(state.clone())).map_err(io::Error::other)?;
        line.push(b'\n');
        f.write_all(&line)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(path)
}

#[cfg(unix)]
fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}

impl Wal {
    /// Appends `change` and waits until it is on disk.
    pub(crate) fn append(&mut self, change: &Change) -> io::Result<()> {
        let mut line =
            serde_json::to_vec(&Line::Change(change.clone())).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tim-emulator-store-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir.join("state.jsonl")
    }

    fn add(user: &str, tag: &str) -> Change {
        Change::AddTags {
            users: vec![(user.into(), vec![tag.into()])],
        }
    }

    #[test]
    fn replays_and_drops_a_torn_tail() {
        let path = temp_path("torn");
        let (state, mut wal) = open(&path, State::default()).unwrap();
        assert!(state.accounts.is_empty());
        wal.append(&add("u", "a")).unwrap();
        wal.append(&add("u", "b")).unwrap();
        drop(wal);
        // A crash in the middle of a write leaves half a line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"change":{"add_ta"#).unwrap();
        drop(f);
        let (state, _wal) = open(&path, State::default()).unwrap();
        assert_eq!(state.accounts["u"].tags, ["a", "b"]);
        // Compacted to one snapshot line.
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.starts_with(r#"{"snapshot":"#));
    }

    #[test]
    fn corruption_in_the_middle_refuses_to_start() {
        let path = temp_path("corrupt");
        fs::write(
            &path,
            "{\"snapshot\":{\"node\":1,\"next_task_seq\":0,\"attr_names\":{},\"accounts\":{},\"pushes\":[]}}\nnot json\n{\"change\":{\"import\":{\"accounts\":[\"x\"]}}}\n",
        )
        .unwrap();
        let err = open(&path, State::default()).unwrap_err();
        assert!(
            matches!(err, StateFileError::Corrupt { line: 2, .. }),
            "{err}"
        );
    }
}
