//! Bulk jobs: 25,000 users with a bad line, and resuming after a kill.

use std::io::Write;

use crate::harness::{Emu, code, run, stderr, tmp};

fn write_users(path: &std::path::Path, n: usize, bad_at: &[usize]) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 1..=n {
        if bad_at.contains(&i) {
            writeln!(
                f,
                r#"{{"To_Account":"bad{i}","Tags":["{}"]}}"#,
                "x".repeat(60)
            )
            .unwrap();
        } else {
            writeln!(f, r#"{{"To_Account":"user{i}","Tags":["campaign"]}}"#).unwrap();
        }
    }
}

#[test]
fn bulk_25000_users_with_a_bad_line() {
    let emu = Emu::start(false);
    let input = tmp("users25k.jsonl");
    let failed = tmp("failed25k.jsonl");
    write_users(&input, 25_000, &[12_345]);
    let out = run(emu
        .tim()
        .args([
            "tags",
            "add",
            "--max-rate",
            "off",
            "--concurrency",
            "16",
            "--file",
        ])
        .arg(&input)
        .arg("--failed")
        .arg(&failed));
    assert_eq!(code(&out), 4, "a bad line makes exit 4: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("line 12345"), "{err}");
    assert!(err.contains("24999 items, 250 calls"), "{err}");
    let state = emu.state();
    let tagged = state
        .accounts
        .iter()
        .filter(|(_, a)| a.tags == ["campaign"])
        .count();
    assert_eq!(tagged, 24_999, "every good line applied");
    assert!(!state.accounts.contains_key("bad12345"));
    let failed = std::fs::read_to_string(&failed).unwrap();
    let lines: Vec<serde_json::Value> = failed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0]["line"].as_u64(), lines[0]["code"].as_i64()),
        (Some(12_345), Some(90034))
    );

    // The same accounts read back as JSON Lines on stdout, from a file of bare accounts.
    let accounts = tmp("accounts.txt");
    std::fs::write(
        &accounts,
        (1..=250).map(|i| format!("user{i}\n")).collect::<String>(),
    )
    .unwrap();
    let out = run(emu
        .tim()
        .args(["tags", "get", "--max-rate", "off", "--file"])
        .arg(&accounts));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let got: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), 250);
    assert!(
        got.iter()
            .all(|u| u["Tags"] == serde_json::json!(["campaign"]))
    );
}

#[test]
fn resume_from_a_checkpoint_after_sigkill_loses_nothing() {
    let emu = Emu::start(false);
    let input = tmp("resume.jsonl");
    let checkpoint = tmp("resume.checkpoint");
    let _ = std::fs::remove_file(&checkpoint);
    write_users(&input, 6_000, &[]);
    // 60 chunks at 20 calls/s: about 3 s, killed after ~1 s.
    let mut child = emu
        .tim()
        .args([
            "tags",
            "add",
            "--max-rate",
            "20",
            "--concurrency",
            "2",
            "--file",
        ])
        .arg(&input)
        .arg("--checkpoint")
        .arg(&checkpoint)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1200));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done_before = emu.state().accounts.len();
    assert!(
        done_before > 0 && done_before < 6_000,
        "killed mid-run ({done_before} applied)"
    );
    emu.handle().clear_requests();

    let out = run(emu
        .tim()
        .args(["tags", "add", "--max-rate", "off", "--file"])
        .arg(&input)
        .arg("--checkpoint")
        .arg(&checkpoint));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("resuming"), "{}", stderr(&out));
    let state = emu.state();
    assert_eq!(state.accounts.len(), 6_000, "nothing lost");
    assert!(state.accounts.values().all(|a| a.tags == ["campaign"]));
    // Finished chunks were not redone: fewer calls than chunks.
    let calls = emu.handle().requests().len();
    assert!(calls < 60, "{calls} calls on resume");
    assert!(
        calls >= 60 - done_before.div_ceil(100),
        "only unfinished chunks redone ({calls})"
    );
}
