//! Every command and every exit code.

use crate::harness::{Emu, KEY, SDKAPPID, code, json, run, stderr, stdout, tim};

#[test]
fn usersig_gen_then_verify_and_the_typed_reasons() {
    let base = |c: &mut std::process::Command| {
        c.args(["--sdkappid", &SDKAPPID.to_string(), "--key", KEY]);
    };
    let mut gen_cmd = tim();
    base(&mut gen_cmd);
    let out = run(gen_cmd.args([
        "usersig",
        "gen",
        "--identifier",
        "alice",
        "--expire",
        "3600",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let sig = stdout(&out).trim().to_owned();
    let claims = tim_core::usersig::verify(
        &sig,
        SDKAPPID,
        "alice",
        &tim_core::SecretKey::new(KEY),
        now(),
    )
    .unwrap();
    assert_eq!(claims.expire, 3600);

    let mut v = tim();
    base(&mut v);
    let out = run(v.args(["usersig", "verify", "--identifier", "alice", &sig]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let j = json(&out);
    assert_eq!(
        (j["valid"].as_bool(), j["identifier"].as_str()),
        (Some(true), Some("alice"))
    );

    let mut v = tim();
    base(&mut v);
    let out = run(v.args(["usersig", "verify", "--identifier", "bob", &sig]));
    assert_eq!(code(&out), 1);
    assert_eq!(json(&out)["reason"], "identifier_mismatch");

    let mut v = tim();
    v.args(["--sdkappid", &SDKAPPID.to_string(), "--key", "another-key"]);
    let out = run(v.args(["usersig", "verify", "--identifier", "alice", &sig]));
    assert_eq!(code(&out), 1);
    assert_eq!(json(&out)["reason"], "bad_signature");

    let mut old = tim();
    base(&mut old);
    let out = run(old.args([
        "usersig",
        "gen",
        "--identifier",
        "alice",
        "--time",
        "1000",
        "--expire",
        "10",
    ]));
    let expired = stdout(&out).trim().to_owned();
    let mut v = tim();
    base(&mut v);
    let out = run(v.args(["usersig", "verify", "--identifier", "alice", &expired]));
    assert_eq!(code(&out), 1);
    assert_eq!(json(&out)["reason"], "expired");

    let mut v = tim();
    base(&mut v);
    let out = run(v.args(["usersig", "verify", "--identifier", "alice", "garbage!"]));
    assert_eq!(
        (code(&out), json(&out)["reason"].as_str()),
        (1, Some("malformed"))
    );

    let out = run(tim().args(["usersig", "gen"]));
    assert_eq!(code(&out), 2, "missing sdkappid/key is a usage error");
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn call_prints_the_envelope_and_maps_exit_codes() {
    let emu = Emu::start(false);
    let out = run(emu.tim().args([
        "call",
        "im_add_tag",
        r#"{"UserTags":[{"To_Account":"u1","Tags":["a"]}]}"#,
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // A success prints the answer's payload (the envelope was checked): nothing for add_tag.
    assert_eq!(json(&out), serde_json::json!({}));
    assert_eq!(emu.state().all_member_push.users["u1"].tags, ["a"]);
    // `<service>/<command>` names the same endpoint.
    let out = run(emu.tim().args([
        "call",
        "all_member_push/im_get_tag",
        r#"{"To_Account":["u1"]}"#,
    ]));
    assert_eq!(
        json(&out)["UserTags"][0]["Tags"][0],
        "a",
        "{}",
        stderr(&out)
    );
    let out = run(emu.tim().args(["call", "nope/im_get_tag", "{}"]));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("all_member_push/im_get_tag"),
        "names the candidate: {}",
        stderr(&out)
    );

    // A field the spec does not know: sent as it is, with a warning naming it.
    let out = run(emu
        .tim()
        .args(["call", "im_get_tag", r#"{"To_Account":["u1"],"Bogus":1}"#]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("Bogus"), "{}", stderr(&out));
    let last = emu.handle().requests().pop().unwrap();
    let sent: serde_json::Value = serde_json::from_str(&last.body).unwrap();
    assert_eq!(sent["Bogus"], 1, "sent as it is: {sent}");
    // Over the documented limit: refused before sending, naming the field.
    let many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let body = serde_json::json!({ "To_Account": many }).to_string();
    let out = run(emu.tim().args(["call", "im_get_tag", &body]));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("To_Account"), "{}", stderr(&out));
    // Unknown command.
    let out = run(emu.tim().args(["call", "im_nope"]));
    assert_eq!(code(&out), 2);
    // Body from stdin and from @file.
    let path = crate::harness::tmp("body.json");
    std::fs::write(&path, r#"{"To_Account":["u1"]}"#).unwrap();
    let out = run(emu
        .tim()
        .args(["call", "im_get_tag", &format!("@{}", path.display())]));
    assert_eq!(json(&out)["UserTags"][0]["Tags"][0], "a");
    let mut child = emu
        .tim()
        .args(["call", "im_get_tag", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"To_Account":["u1"]}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(json(&out)["UserTags"][0]["To_Account"], "u1");

    // The API answers an error: exit 1, envelope still printed.
    let out = run(emu.tim().args([
        "--key",
        "wrong-key",
        "call",
        "im_get_tag",
        r#"{"To_Account":["u1"]}"#,
    ]));
    assert_eq!(code(&out), 1);
    assert_eq!(json(&out)["ErrorCode"], 70009);
    // Nothing listens: exit 3.
    let out = run(tim()
        .args([
            "--sdkappid",
            "1",
            "--key",
            "k",
            "--endpoint",
            "http://127.0.0.1:1",
            "--timeout",
            "5",
        ])
        .args(["tags", "get", "u1"]));
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    // Plain http to a non-loopback host is refused.
    let out = run(tim().args([
        "--sdkappid",
        "1",
        "--key",
        "k",
        "--endpoint",
        "http://example.com",
        "tags",
        "get",
        "u1",
    ]));
    assert_eq!(code(&out), 2);
}

#[test]
fn typed_commands_cover_every_endpoint_on_both_transports() {
    let emu = Emu::start(false);
    for transport in ["reqwest", "hyper"] {
        let t = |args: &[&str]| {
            let out = run(emu.tim().args(["--transport", transport]).args(args));
            assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
            json(&out)
        };
        // Accounts and profiles.
        t(&["accounts", "import", "alice", "--nick", "Alice"]);
        t(&["accounts", "import", "bob", "carol"]);
        let checked = t(&["accounts", "check", "alice", "carol", "zed"]);
        let statuses: Vec<&str> = checked["ResultItem"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["AccountStatus"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["Imported", "Imported", "NotImported"]);
        t(&[
            "profile",
            "set",
            "bob",
            "Tag_Profile_IM_Nick=Bobby",
            "Tag_Profile_IM_Level:=4",
        ]);
        let got = t(&[
            "profile",
            "get",
            "alice",
            "bob",
            "--tag",
            "Tag_Profile_IM_Nick",
            "--tag",
            "Tag_Profile_IM_Level",
        ]);
        assert_eq!(
            got["UserProfileItem"][0]["ProfileItem"][0]["Value"],
            "Alice"
        );
        assert_eq!(got["UserProfileItem"][1]["ProfileItem"][1]["Value"], 4);
        t(&["accounts", "import", "gone"]);
        let deleted = t(&["accounts", "delete", "gone"]);
        assert_eq!(deleted["ResultItem"][0]["ResultCode"], 0);
        t(&["attrs", "names", "set", "0=city", "1=plan"]);
        assert_eq!(t(&["attrs", "names", "get"])["AttrNames"]["1"], "plan");
        t(&["attrs", "set", "alice", "city=Shenzhen", "plan=pro"]);
        t(&["attrs", "set", "bob", "city=Beijing"]);
        assert_eq!(
            t(&["attrs", "get", "alice", "bob"])["UserAttrs"][0]["Attrs"]["plan"],
            "pro"
        );
        t(&["tags", "add", "alice", "--tag", "vip", "--tag", "beta"]);
        t(&["tags", "add", "bob", "--tag", "beta"]);
        assert_eq!(
            t(&["tags", "get", "alice"])["UserTags"][0]["Tags"],
            serde_json::json!(["vip", "beta"])
        );
        let task = t(&[
            "push",
            "--text",
            "hi",
            "--tags-and",
            "vip",
            "--lifetime",
            "60",
        ])["TaskId"]
            .as_str()
            .unwrap()
            .to_owned();
        let by_attr = t(&["push", "--text", "hi", "--attrs-or", "city=Beijing"])["TaskId"]
            .as_str()
            .unwrap()
            .to_owned();
        let pushes = emu.handle().pushes();
        let recipients = |id: &str| {
            pushes
                .iter()
                .find(|p| p.task_id == id)
                .unwrap()
                .recipients
                .clone()
        };
        assert_eq!(recipients(&task), ["alice"]);
        assert_eq!(recipients(&by_attr), ["bob"]);
        t(&["tags", "remove", "alice", "--tag", "beta"]);
        t(&["attrs", "remove", "alice", "plan"]);
        t(&["tags", "clear", "bob"]);
        let state = emu.state();
        assert_eq!(state.all_member_push.users["alice"].tags, ["vip"]);
        assert!(state.all_member_push.users["bob"].tags.is_empty());
        assert!(
            !state.all_member_push.users["alice"]
                .attrs
                .contains_key("plan")
        );
        // Reset for the other transport.
        t(&["tags", "clear", "alice"]);
    }
    // A push condition that mixes tags and attributes is refused before sending.
    let out = run(emu
        .tim()
        .args(["push", "--text", "x", "--tags-or", "a", "--attrs-or", "k=v"]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}

/// A push whose acknowledgement is lost: `tim push` prints the MsgRandom and the command that
/// repeats it, at every verbosity; run as printed, that command makes no second push.
#[test]
fn an_ambiguous_push_prints_the_command_that_repeats_it_once() {
    // The documented limits, push spacing included, and the emulator's default dedup window.
    let emu = Emu::start(true);
    emu.handle().import_accounts(["alice", "bob"]).unwrap();

    // Pushing to everyone takes --all; --all with a condition is a conflict. Nothing is sent.
    let out = run(emu.tim().args(["push", "--text", "hi"]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--all"), "{}", stderr(&out));
    let out = run(emu
        .tim()
        .args(["push", "--text", "hi", "--all", "--tags-or", "vip"]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
    assert!(emu.handle().requests().is_empty(), "nothing was sent");

    // The next call is applied, then its connection is dropped without an answer.
    emu.handle()
        .inject_fault(tim_emulator::FaultKind::DropAfterApply);
    let out = run(emu.tim().args([
        "-q",
        "push",
        "--text",
        "Sale starts now",
        "--all",
        "--lifetime",
        "60",
    ]));
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let pushes = emu.handle().pushes();
    assert_eq!(pushes.len(), 1, "the push was made before the drop");
    let msg_random = pushes[0].request.msg_random;
    let err = stderr(&out);
    assert!(
        err.contains(&format!("MsgRandom {msg_random}")),
        "printed even with -q:\n{err}"
    );
    assert!(!err.contains(KEY), "{err}");
    let printed = err
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("tim "))
        .unwrap_or_else(|| panic!("a command line in:\n{err}"));
    let url = emu.handle().base_url();
    assert_eq!(
        printed,
        format!(
            "tim --endpoint {url} --sdkappid {SDKAPPID} push --text 'Sale starts now' --all \
             --lifetime 60 --msg-random {msg_random}"
        )
    );

    // Run it as printed, in a shell, with nothing but the key in the environment: the command
    // names the app and the endpoint itself.
    let bin = env!("CARGO_BIN_EXE_tim");
    let script = format!("'{bin}'{}", printed.strip_prefix("tim").unwrap());
    let mut sh = std::process::Command::new("sh");
    sh.args(["-c", &script]).stdin(std::process::Stdio::null());
    for var in [
        "TIM_SDKAPPID",
        "TIM_IDENTIFIER",
        "TIM_USERSIG",
        "TIM_REGION",
        "TIM_ENDPOINT",
        "TIM_TRANSPORT",
    ] {
        sh.env_remove(var);
    }
    let out = run(sh.env("TIM_SECRET_KEY", KEY));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // The same push task: its TaskId, and still one push for that MsgRandom.
    assert_eq!(json(&out)["TaskId"], pushes[0].task_id.as_str());
    let pushes = emu.handle().pushes();
    assert_eq!(
        pushes
            .iter()
            .filter(|p| p.request.msg_random == msg_random)
            .count(),
        1
    );
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].recipients, ["alice", "bob"]);
}

#[test]
fn demo_runs_the_tour_and_exits_0() {
    let out = run(tim().arg("demo"));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    // Every endpoint the emulator implements (one only in the spec has nothing to show).
    for command in tim_core::EndpointId::ALL
        .iter()
        .filter(|id| tim_emulator::emulates(**id))
    {
        assert!(
            text.contains(&command.info().path()),
            "the tour calls {command}"
        );
    }
    assert!(
        text.contains(": alice, carol"),
        "tag push recipients shown:\n{text}"
    );
    assert!(text.contains(": bob"), "attribute push recipients shown");
}

#[test]
fn help_and_bad_usage() {
    let out = run(tim().arg("--help"));
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("Exit codes"));
    let out = run(tim().args(["tags", "frobnicate"]));
    assert_eq!(code(&out), 2);
    let out = run(tim().args(["--region", "mars", "tags", "get", "u"]));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("silicon-valley"), "{}", stderr(&out));
}

/// `tim emulator serve` as a real process: flags reach the emulator, and `tim` talks to it.
#[test]
fn emulator_serve_runs_until_killed_with_its_flags() {
    use std::io::BufRead;
    let state = crate::harness::tmp("serve.state");
    let _ = std::fs::remove_file(&state);
    let mut server = tim()
        .args([
            "--sdkappid",
            "1400000009",
            "--key",
            KEY,
            "emulator",
            "serve",
            "--port",
            "0",
        ])
        .args([
            "--admin",
            "ops",
            "--no-rate-limit",
            "--fault",
            "internal-error=0",
            "--state",
        ])
        .arg(&state)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The reader is dropped after one line, as with `tim emulator serve | head -1`: the server
    // must keep running.
    let mut first = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    assert!(!first.contains(KEY));
    let client = |args: &[&str]| {
        run(tim()
            .args([
                "--sdkappid",
                "1400000009",
                "--key",
                KEY,
                "--identifier",
                "ops",
                "--endpoint",
                &url,
            ])
            .args(args))
    };
    let out = client(&["tags", "add", "zed", "--tag", "t1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        json(&client(&["tags", "get", "zed"]))["UserTags"][0]["Tags"][0],
        "t1"
    );
    // Only the configured admin may call.
    let out = run(tim()
        .args(["--sdkappid", "1400000009", "--key", KEY, "--endpoint", &url])
        .args(["tags", "get", "zed"]));
    assert_eq!(
        (code(&out), json(&out)["ErrorCode"].as_i64()),
        (1, Some(90009))
    );
    server.kill().unwrap();
    server.wait().unwrap();
    // The state file kept the acknowledged write.
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(text.contains("zed") && text.contains("t1"), "{text}");
    // A bad fault spec is a usage error.
    let out = run(tim().args(["emulator", "serve", "--fault", "meteor=0.5"]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}

/// Without --key, the banner prints the well-known default key with the other variables, and
/// those variables are all `tim` needs to call the emulator; it says that --no-rate-limit keeps
/// the push spacing.
#[test]
fn emulator_serve_prints_its_default_key_and_its_limits() {
    use std::io::BufRead;
    let mut server = tim()
        .args(["emulator", "serve", "--port", "0", "--no-rate-limit"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = Vec::new();
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap());
    while banner.len() < 5 {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap() == 0 {
            break;
        }
        banner.push(line.trim().to_owned());
    }
    let text = banner.join("\n");
    let vars: Vec<(String, String)> = banner
        .iter()
        .find(|l| l.starts_with("TIM_ENDPOINT="))
        .unwrap_or_else(|| panic!("{text}"))
        .split(' ')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert!(
        vars.contains(&(
            "TIM_SECRET_KEY".to_owned(),
            tim_emulator::DEFAULT_KEY.to_owned()
        )),
        "{text}"
    );
    assert!(
        text.contains("pushes must still be more than 1 s apart"),
        "{text}"
    );
    let out = run(tim().envs(vars).args(["tags", "get", "alice"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn rate_limit_redis_bad_urls_exit_2_or_3_without_the_password_and_a_good_one_is_used() {
    let emu = Emu::start(false);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let out = run(emu
        .tim()
        .args(["--rate-limit-redis", "http://:secret@127.0.0.1:1"])
        .args(["tags", "get", "alice"]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid Redis URL http://:***@127.0.0.1:1"));
    assert!(!stderr(&out).contains("secret"), "{}", stderr(&out));
    let url = format!("redis://:secret@127.0.0.1:{port}");
    let out = run(emu
        .tim()
        .env("TIM_RATE_LIMIT_REDIS", &url)
        .args(["tags", "get", "alice"]));
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let shown = format!("cannot reach Redis at redis://:***@127.0.0.1:{port}");
    assert!(stderr(&out).contains(&shown), "{}", stderr(&out));
    assert!(!stderr(&out).contains("secret"), "{}", stderr(&out));

    // With a real Redis (same password), the call goes through the shared limiter.
    let server = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            "secret",
        ])
        .stdout(std::process::Stdio::null())
        .spawn();
    let Ok(mut server) = server else {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "!!!!! SKIPPED the --rate-limit-redis success case: `redis-server` is not on PATH !!!!!"
        );
        return;
    };
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = run(emu
        .tim()
        .args(["--rate-limit-redis", &url])
        .args(["tags", "add", "alice", "--tag", "vip"]));
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// Accounts and profiles: bad input is refused before sending (exit 2), naming the field and
/// the code the service would answer; nothing reaches the emulator.
#[test]
fn accounts_and_profile_bad_input_is_refused_before_sending() {
    let emu = Emu::start(false);
    let long = "x".repeat(33);
    let nick = "n".repeat(501);
    let cases: [(Vec<&str>, &str, &str); 5] = [
        (vec!["accounts", "import", &long], "UserID", "70402"),
        (
            vec!["accounts", "import", "a", "--nick", &nick],
            "Nick",
            "40601",
        ),
        (
            vec!["profile", "set", "alice", "Tag_Profile_IM_Nik=Ann"],
            "ProfileItem[0].Tag",
            "40009",
        ),
        (
            vec!["profile", "set", "alice", "Tag_Profile_IM_Level=three"],
            "ProfileItem[0].Value",
            "40610",
        ),
        (
            vec!["profile", "get", "alice", "--tag", "Tag_Profile_IM_Nik"],
            "TagList[0]",
            "40009",
        ),
    ];
    for (args, path, server_code) in cases {
        let out = run(emu.tim().args(&args));
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(path), "{args:?} names {path}: {err}");
        assert!(
            err.contains(server_code),
            "{args:?} names {server_code}: {err}"
        );
    }
    let out = run(emu.tim().args(["profile", "set", "alice", "no-separator"]));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("TAG=TEXT or TAG:=JSON"),
        "{}",
        stderr(&out)
    );
    assert!(emu.handle().requests().is_empty(), "nothing was sent");
}

/// `tim msg send` then `tim msg history`: the message comes back as a JSON line, newest first.
#[test]
fn msg_send_then_history_as_json_lines() {
    let emu = Emu::start(false);
    emu.handle().import_accounts(["ann", "bob"]).unwrap();
    for text in ["first", "second"] {
        let out = run(emu
            .tim()
            .args(["msg", "send", "ann", "bob", "--text", text]));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(json(&out)["MsgKey"].is_string());
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    let out = run(emu.tim().args([
        "msg",
        "send",
        "ann",
        "bob",
        "--body",
        r#"[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"d"}}]"#,
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = run(emu
        .tim()
        .args(["msg", "history", "bob", "ann", "--page", "2"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{}", stdout(&out));
    assert_eq!(lines[0]["MsgBody"][0]["MsgType"], "TIMCustomElem");
    assert_eq!(lines[2]["MsgBody"][0]["MsgContent"]["Text"], "first");
    let out = run(emu
        .tim()
        .args(["msg", "send", "ann", "ghost", "--text", "x"]));
    assert_eq!(code(&out), 1, "the API refuses an unknown recipient");
    assert_eq!(json(&out)["ErrorCode"], 90012);
}
