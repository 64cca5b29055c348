//! Bulk jobs: 25,000 users with a bad line, and resuming after a kill.

use std::io::Write;

use crate::harness::{Emu, code, run, stderr, tmp};

/// The `.reasons.jsonl` side file of a `--failed` file, one JSON value a line.
fn reasons_of(failed: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(failed.with_extension("reasons.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

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
        .all_member_push
        .users
        .iter()
        .filter(|(_, a)| a.tags == ["campaign"])
        .count();
    assert_eq!(tagged, 24_999, "every good line applied");
    assert!(!state.accounts.iter().any(|a| a == "bad12345"));
    // The failed file holds the line as it was (to be fixed and rerun); the side file says why.
    let failed_items = std::fs::read_to_string(&failed).unwrap();
    let original = std::fs::read_to_string(&input).unwrap();
    assert_eq!(
        failed_items.lines().collect::<Vec<_>>(),
        [original.lines().nth(12_344).unwrap()]
    );
    let lines = reasons_of(&failed);
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
    let done_before = emu.state().all_member_push.users.len();
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
    assert_eq!(state.all_member_push.users.len(), 6_000, "nothing lost");
    assert!(
        state
            .all_member_push
            .users
            .values()
            .all(|a| a.tags == ["campaign"])
    );
    // Finished chunks were not redone: fewer calls than chunks.
    let calls = emu.handle().requests().len();
    assert!(calls < 60, "{calls} calls on resume");
    assert!(
        calls >= 60 - done_before.div_ceil(100),
        "only unfinished chunks redone ({calls})"
    );
}

/// `tim tags get` over a file, interrupted (Ctrl-C, then SIGKILL) and resumed: every account's
/// result is in the output exactly once, in input order.
#[test]
fn an_interrupted_read_resumes_into_its_output_exactly_once() {
    let emu = Emu::start(false);
    let accounts = tmp("read20k.txt");
    let n = 4_000;
    std::fs::write(
        &accounts,
        (1..=n).map(|i| format!("user{i}\n")).collect::<String>(),
    )
    .unwrap();
    let output = tmp("read20k.out.jsonl");
    let checkpoint = tmp("read20k.checkpoint");
    for f in [&output, &checkpoint] {
        let _ = std::fs::remove_file(f);
    }
    let job = |rate: &str| {
        let mut c = emu.tim();
        c.args([
            "tags",
            "get",
            "--max-rate",
            rate,
            "--concurrency",
            "2",
            "--file",
        ])
        .arg(&accounts)
        .arg("--output")
        .arg(&output)
        .arg("--checkpoint")
        .arg(&checkpoint)
        .stderr(std::process::Stdio::piped());
        c
    };
    // Ctrl-C once the job has recorded progress (its signal handling is set up by then):
    // it stops cleanly with 130 and says how to resume.
    let child = job("10").spawn().unwrap();
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&checkpoint)
        .map(|t| t.lines().count() < 2)
        .unwrap_or(true)
        && started.elapsed() < std::time::Duration::from_secs(20)
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 130, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("rerun the same command to resume"),
        "{}",
        stderr(&out)
    );
    // Then a SIGKILL in the middle of the next run.
    let mut child = job("10").spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1300));
    child.kill().unwrap();
    child.wait().unwrap();
    // And the rest.
    let out = run(&mut job("off"));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("resuming"), "{}", stderr(&out));
    let got: Vec<String> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["To_Account"].as_str().unwrap().to_owned()
        })
        .collect();
    let want: Vec<String> = (1..=n).map(|i| format!("user{i}")).collect();
    assert_eq!(got.len(), want.len(), "no result lost or written twice");
    assert_eq!(got, want, "in input order");
}

#[test]
fn a_checkpoint_refuses_a_changed_input() {
    let emu = Emu::start(false);
    let input = tmp("changed.jsonl");
    let checkpoint = tmp("changed.checkpoint");
    let _ = std::fs::remove_file(&checkpoint);
    write_users(&input, 300, &[]);
    let job = || {
        let mut c = emu.tim();
        c.args(["tags", "add", "--max-rate", "off", "--file"])
            .arg(&input)
            .arg("--checkpoint")
            .arg(&checkpoint);
        c
    };
    assert_eq!(code(&run(&mut job())), 0);
    write_users(&input, 600, &[]);
    let out = run(&mut job());
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("input changed"), "{}", stderr(&out));
    assert_eq!(
        emu.state().all_member_push.users.len(),
        300,
        "nothing sent for the changed input"
    );
}

/// Items only the server can refuse (an attribute that was never configured: 90033 for the
/// whole call) fail alone, named by their line; their neighbours are applied, and the failed
/// file is a valid input.
#[test]
fn items_the_server_refuses_fail_alone_and_the_failed_file_reruns() {
    let emu = Emu::start(false);
    assert_eq!(
        code(&run(emu.tim().args(["attrs", "names", "set", "0=city"]))),
        0
    );
    let input = tmp("attrs.jsonl");
    let failed = tmp("attrs.failed.jsonl");
    let bad: Vec<usize> = vec![7, 150, 151, 420, 999];
    let mut text = String::new();
    for i in 1..=1_000 {
        let attr = if bad.contains(&i) { "planet" } else { "city" };
        text.push_str(&format!(
            "{{\"To_Account\":\"user{i}\",\"Attrs\":{{\"{attr}\":\"x\"}}}}\n"
        ));
    }
    std::fs::write(&input, &text).unwrap();
    let out = run(emu
        .tim()
        .args(["attrs", "set", "--max-rate", "off", "--file"])
        .arg(&input)
        .arg("--failed")
        .arg(&failed));
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let state = emu.state();
    let applied = state
        .all_member_push
        .users
        .values()
        .filter(|a| !a.attrs.is_empty())
        .count();
    assert_eq!(applied, 995, "no good item failed because of a neighbour");
    let reasons = reasons_of(&failed);
    let lines: Vec<u64> = reasons
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [7, 150, 151, 420, 999]);
    assert!(reasons.iter().all(|r| r["code"] == 90033));
    // Configure the attribute, rerun the failed file as it is: everything is applied.
    assert_eq!(
        code(&run(emu
            .tim()
            .args(["attrs", "names", "set", "0=city", "1=planet"]))),
        0
    );
    let out = run(emu
        .tim()
        .args(["attrs", "set", "--max-rate", "off", "--file"])
        .arg(&failed));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let applied = emu
        .state()
        .all_member_push
        .users
        .values()
        .filter(|a| !a.attrs.is_empty())
        .count();
    assert_eq!(applied, 1_000);
}

#[test]
fn conflicting_flags_and_long_account_lists() {
    let emu = Emu::start(false);
    let input = tmp("conflict.jsonl");
    write_users(&input, 3, &[]);
    // `--tag` applies to an account on the command line; with --file it is an error.
    let out = run(emu
        .tim()
        .args(["tags", "add", "--tag", "extra", "--file"])
        .arg(&input));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(emu.state().accounts.is_empty(), "nothing sent");
    // More accounts than a call takes, on the command line: split like a file.
    let users: Vec<String> = (0..250).map(|i| format!("u{i}")).collect();
    let out = run(emu
        .tim()
        .args(["tags", "clear", "--max-rate", "off"])
        .args(&users));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let calls = emu
        .handle()
        .requests()
        .iter()
        .filter(|r| r.command.as_deref() == Some("im_remove_all_tags"))
        .count();
    assert_eq!(calls, 3);
}

/// `tim accounts import --file`: accounts with optional nicknames and photos, 100 a call; a bad
/// line and an account the service refuses are reported with their line numbers, the rest is
/// imported, and `--failed` holds exactly the lines to rerun.
#[test]
fn accounts_import_from_a_file_names_every_failed_line() {
    let emu = Emu::start(true);
    let input = tmp("accounts-import.jsonl");
    let failed = tmp("accounts-import-failed.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    for i in 1..=1_050 {
        match i {
            7 => writeln!(f, r#"{{"UserID":"{}"}}"#, "x".repeat(33)).unwrap(),
            500 => writeln!(f, "refused500").unwrap(),
            n if n % 3 == 0 => writeln!(
                f,
                r#"{{"UserID":"acc{n}","Nick":"Nick {n}","FaceUrl":"https://p/{n}.png"}}"#
            )
            .unwrap(),
            n if n % 3 == 1 => writeln!(f, "acc{n}").unwrap(),
            n => writeln!(f, r#""acc{n}""#).unwrap(),
        }
    }
    drop(f);
    emu.handle()
        .fail_items(["refused500"], 70500, "internal error (test)");
    let out = run(emu
        .tim()
        .args(["accounts", "import", "--file"])
        .arg(&input)
        .arg("--failed")
        .arg(&failed));
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("line 7"), "{err}");
    let state = emu.state();
    assert_eq!(state.accounts.len(), 1_048, "every good line imported");
    assert_eq!(state.profiles["acc3"]["Tag_Profile_IM_Nick"], "Nick 3");
    assert!(!state.accounts.iter().any(|a| a == "refused500"));
    let failed_lines = std::fs::read_to_string(&failed).unwrap();
    let original = std::fs::read_to_string(&input).unwrap();
    // A line refused before sending is kept as it was; an item the service refused is written
    // as its JSON item (`{"UserID":...}`): both are valid input to rerun.
    assert_eq!(
        failed_lines.lines().collect::<Vec<_>>(),
        [
            original.lines().nth(6).unwrap(),
            r#"{"UserID":"refused500"}"#
        ]
    );
    let reasons = reasons_of(&failed);
    assert_eq!(
        reasons
            .iter()
            .map(|r| r["line"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [7, 500]
    );
    assert_eq!(reasons[0]["code"], 70402);
    // 11 calls of at most 100 accounts (1,049 lines that could be sent).
    let calls = emu
        .handle()
        .requests()
        .iter()
        .filter(|r| r.command.as_deref() == Some("multiaccount_import"))
        .count();
    assert_eq!(calls, 11);
}
