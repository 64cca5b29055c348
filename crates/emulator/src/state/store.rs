//! Durable state: a write-ahead log of [`Change`]s in JSON lines, fsynced before each answer.
//!
//! The file starts with one snapshot line and continues with one line per accepted call,
//! holding every change of that call (so a call is replayed whole or not at all):
//!
//! ```text
//! {"snapshot":{"format":2,"state":{"accounts":{...},"all_member_push":{...},...}}}
//! {"changes":[{"all_member_push":{"add_tags":{"users":[["u1",["vip"]]]}}}]}
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

use super::{Change, FORMAT, State};

/// One line of the log.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Snapshot(Snapshot),
    Changes(Vec<Change>),
}

#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    state: State,
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
    /// The file was written by another version of the emulator, with another layout.
    #[error(
        "state file {path} has layout {found} (this emulator reads layout {FORMAT}): it was written by another version of tim-emulator; start with a new file (or move this one away)"
    )]
    Format {
        /// The state file.
        path: PathBuf,
        /// The layout found (`1` for files without a layout number).
        found: u64,
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
            Ok(Line::Snapshot(s)) if s.format == FORMAT => state = s.state,
            Ok(Line::Snapshot(s)) => {
                return Err(StateFileError::Format {
                    path: path.to_owned(),
                    found: u64::from(s.format),
                });
            }
            Ok(Line::Changes(changes)) => {
                for c in changes {
                    state.apply(c);
                }
            }
            Err(_) if i == 0 && other_layout(line).is_some() => {
                return Err(StateFileError::Format {
                    path: path.to_owned(),
                    found: other_layout(line).unwrap_or(1),
                });
            }
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

/// The layout number of a snapshot line this version cannot read (1: the first layout, which
/// had none).
fn other_layout(line: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let snap = v.get("snapshot")?.as_object()?;
    Some(
        snap.get("format")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(1),
    )
}

fn compact(path: &Path, state: &State) -> io::Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    {
        let mut f = File::create(&tmp)?;
        let snapshot = Snapshot {
            format: FORMAT,
            state: state.clone(),
        };
        let mut line = serde_json::to_vec(&Line::Snapshot(snapshot)).map_err(io::Error::other)?;
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
    /// Appends the changes of one call and waits until they are on disk.
    pub(crate) fn append(&mut self, changes: &[Change]) -> io::Result<()> {
        #[derive(Serialize)]
        #[serde(rename_all = "snake_case")]
        enum LineRef<'a> {
            Changes(&'a [Change]),
        }
        let mut line = serde_json::to_vec(&LineRef::Changes(changes)).map_err(io::Error::other)?;
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

    fn add(user: &str, tag: &str) -> Vec<Change> {
        vec![Change::AllMemberPush(
            crate::state::all_member_push::Change::AddTags {
                users: vec![(user.into(), vec![tag.into()])],
            },
        )]
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
        f.write_all(br#"{"changes":[{"all_member_push":{"add_ta"#)
            .unwrap();
        drop(f);
        let (state, _wal) = open(&path, State::default()).unwrap();
        assert_eq!(state.all_member_push.users["u"].tags, ["a", "b"]);
        assert!(!state.exists("u"), "tags do not create accounts");
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
            "{\"snapshot\":{\"format\":2,\"state\":{}}}\nnot json\n{\"changes\":[{\"import_accounts\":{\"accounts\":[\"x\"]}}]}\n",
        )
        .unwrap();
        let err = open(&path, State::default()).unwrap_err();
        assert!(
            matches!(err, StateFileError::Corrupt { line: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_file_of_another_layout_is_refused_by_name() {
        let path = temp_path("layout");
        fs::write(
            &path,
            "{\"snapshot\":{\"node\":1,\"next_task_seq\":0,\"attr_names\":{},\"accounts\":{},\"pushes\":[]}}\n",
        )
        .unwrap();
        let err = open(&path, State::default()).unwrap_err();
        assert!(
            matches!(err, StateFileError::Format { found: 1, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("another version of tim-emulator"));
        fs::write(&path, "{\"snapshot\":{\"format\":9,\"state\":{}}}\n").unwrap();
        let err = open(&path, State::default()).unwrap_err();
        assert!(
            matches!(err, StateFileError::Format { found: 9, .. }),
            "{err}"
        );
    }
}
