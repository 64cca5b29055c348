//! State files: every acknowledged change survives a restart, including after SIGKILL.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tim_core::SecretKey;
use tim_emulator::{Config, DEFAULT_ADMIN, DEFAULT_SDKAPPID, Emulator, StartError};

use crate::support::{Api, code, temp_dir, text};

const KEY: &str = "durability-test-key";

/// Tells [`child_emulator`] which state file to serve.
const CHILD_STATE: &str = "TIM_EMULATOR_IT_CHILD_STATE";

/// Starts an emulator on `state` in a process of its own (this test binary running
/// [`child_emulator`]), so that it can be killed with SIGKILL; answers the child and its base
/// URL.
fn spawn(state: &Path) -> (Child, String) {
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "durability::child_emulator",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_STATE, state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the emulator process");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout);
    // The test harness prints its own text first ("test durability::child_emulator ... " on
    // the same line).
    let url = loop {
        let mut line = String::new();
        let n = lines.read_line(&mut line).expect("a line");
        assert!(n > 0, "the emulator process exited before listening");
        if let Some((_, url)) = line.trim().split_once("listening on ") {
            break url.to_owned();
        }
    };
    (child, url)
}

/// The emulator process of [`spawn`]: serves the state file named by `CHILD_STATE` until it is
/// killed. Does nothing when run on its own.
#[test]
#[ignore = "the server process that acknowledged_changes_survive_sigkill starts and kills"]
fn child_emulator() {
    use std::io::Write as _;
    let Some(state) = std::env::var_os(CHILD_STATE) else {
        return;
    };
    let mut config = Config::default();
    config.key = SecretKey::new(KEY);
    config.rate_limits = false;
    config.push_spacing = false;
    config.state_file = Some(state.into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime
        .block_on(Emulator::serve(config, |emu| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on {}", emu.base_url());
            let _ = out.flush();
        }))
        .expect("serve");
}

fn client(url: &str) -> Api {
    Api::remote(url, DEFAULT_SDKAPPID, DEFAULT_ADMIN, SecretKey::new(KEY))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_sigkill() {
    let dir = temp_dir("sigkill");
    let state = dir.join("state.jsonl");
    let (mut child, url) = spawn(&state);
    let api = client(&url);
    api.ok(
        "im_set_attr_name",
        json!({"AttrNames": {"0": "sex", "1": "city"}}),
    )
    .await;
    api.ok(
        "im_set_attr",
        json!({"UserAttrs": [{"To_Account": "p", "Attrs": {"sex": "F", "city": "SZ"}}]}),
    )
    .await;
    api.ok(
        "im_remove_attr",
        json!({"UserAttrs": [{"To_Account": "p", "Attrs": ["city"]}]}),
    )
    .await;
    let push = api
        .ok(
            "im_push",
            json!({"MsgRandom": 1, "MsgBody": text("before the crash")}),
        )
        .await;

    // A writer that records every acknowledged write until the process dies under it.
    let acked = Arc::new(Mutex::new(Vec::<usize>::new()));
    let writer = {
        let acked = acked.clone();
        let api = client(&url);
        tokio::spawn(async move {
            for i in 0..100_000 {
                let body = json!({"UserTags": [{"To_Account": format!("d{}", i / 50), "Tags": [format!("t{i}")]}]});
                let path = format!("/v4/all_member_push/im_add_tag?{}", api.query());
                match api.raw(http::Method::POST, &path, body.to_string()).await {
                    Ok((status, _, bytes)) if status == 200 => {
                        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                        assert_eq!(code(&v), 0, "{v}");
                        acked.lock().unwrap().push(i);
                    }
                    _ => return,
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 60 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    child.wait().expect("reaped");
    tokio::time::timeout(Duration::from_secs(15), writer)
        .await
        .expect("writer stops once the server is gone")
        .expect("writer did not panic");
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 60,
        "only {} writes acknowledged",
        acked.len()
    );

    let (mut child, url) = spawn(&state);
    let api = client(&url);
    let snapshot = api.inspect("state").await;
    for i in &acked {
        let tags = &snapshot["all_member_push"]["users"][format!("d{}", i / 50)]["tags"];
        assert!(
            tags.as_array()
                .is_some_and(|t| t.contains(&json!(format!("t{i}")))),
            "acknowledged tag t{i} lost after SIGKILL"
        );
    }
    // At most the one write in flight at the kill may have landed without an acknowledgement.
    let total: usize = snapshot["all_member_push"]["users"]
        .as_object()
        .unwrap()
        .values()
        .map(|a| a["tags"].as_array().unwrap().len())
        .sum();
    assert!(
        total == acked.len() || total == acked.len() + 1,
        "{total} vs {}",
        acked.len()
    );
    assert_eq!(
        snapshot["all_member_push"]["attr_names"],
        json!({"0": "sex", "1": "city"})
    );
    assert_eq!(
        snapshot["all_member_push"]["users"]["p"]["attrs"],
        json!({"sex": "F"})
    );
    let pushes = api.inspect("pushes").await;
    assert_eq!(pushes.as_array().unwrap().len(), 1);
    assert_eq!(pushes[0]["task_id"], push["TaskId"]);
    // TaskIds keep counting after the restart.
    let again = api
        .ok("im_push", json!({"MsgRandom": 2, "MsgBody": text("after")}))
        .await;
    assert_ne!(again["TaskId"], push["TaskId"]);
    child.kill().expect("stop");
    child.wait().expect("reaped");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn graceful_restart_keeps_state_and_push_rules() {
    let dir = temp_dir("graceful");
    let state = dir.join("state.jsonl");
    let clock = crate::support::manual_clock();
    let api = Api::start_with_clock(
        Emulator::builder()
            .with_state_file(&state)
            .with_daily_push_quota(1)
            .with_accounts(["u"]),
        clock.clone(),
    )
    .await;
    api.ok(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "u", "Tags": ["kept"]}]}),
    )
    .await;
    api.ok("im_push", json!({"MsgRandom": 1, "MsgBody": text("one")}))
        .await;
    let Api { emu, .. } = api;
    emu.expect("emulator").shutdown().await;

    let api = Api::start_with_clock(
        Emulator::builder()
            .with_state_file(&state)
            .with_daily_push_quota(1),
        clock.clone(),
    )
    .await;
    assert_eq!(api.tags_of(&["u"]).await, vec![vec!["kept"]]);
    assert_eq!(api.emu().pushes()[0].recipients, ["u"]);
    // The push spacing and the daily quota are computed from the stored pushes.
    api.fails(
        "im_push",
        json!({"MsgRandom": 2, "MsgBody": text("two")}),
        90024,
    )
    .await;
    clock.advance(Duration::from_secs(2));
    api.fails(
        "im_push",
        json!({"MsgRandom": 3, "MsgBody": text("three")}),
        90047,
    )
    .await;
    drop(api);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_corrupt_state_file_refuses_to_start() {
    let dir = temp_dir("corrupt");
    let state = dir.join("state.jsonl");
    std::fs::write(
        &state,
        "garbage\n{\"change\":{\"import\":{\"accounts\":[\"x\"]}}}\n",
    )
    .unwrap();
    let err = Emulator::builder()
        .with_state_file(&state)
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::StateFile(_)), "{err}");
    assert!(err.to_string().contains("line 1"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
