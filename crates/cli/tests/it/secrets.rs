//! Nothing `tim` prints, at any verbosity, contains the key or a UserSig.

use crate::harness::{Emu, KEY, SDKAPPID, run, stderr, stdout};

#[test]
fn no_key_or_usersig_in_any_output_at_trace() {
    let emu = Emu::start(false);
    let sig = tim_core::usersig::generate(
        SDKAPPID,
        &tim_core::SecretKey::new(KEY),
        "administrator",
        1_700_000_000,
        86_400 * 365 * 10,
    );
    let runs: Vec<Vec<&str>> = vec![
        vec!["-vvv", "tags", "get", "u1"],
        vec![
            "-vvv",
            "--transport",
            "hyper",
            "tags",
            "add",
            "u1",
            "--tag",
            "x",
        ],
        vec!["-vvv", "call", "im_get_tag", r#"{"To_Account":["u1"]}"#],
        vec![
            "-vvv",
            "--key",
            "wrong-key-zzzzzzzzzzzz",
            "tags",
            "get",
            "u1",
        ],
        vec![
            "-vvv",
            "--endpoint",
            "http://127.0.0.1:1",
            "tags",
            "get",
            "u1",
        ],
        vec!["-vvv", "push", "--text", "hello", "--all"],
    ];
    for args in runs {
        let out = run(emu.tim().args(&args));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!all.is_empty());
        assert!(!all.contains(KEY), "{args:?} printed the key");
        assert!(
            !all.contains("wrong-key-zzzzzzzzzzzz"),
            "{args:?} printed the key"
        );
        assert!(
            !all.contains("usersig=eJ"),
            "{args:?} printed a UserSig in a URL:\n{all}"
        );
        assert!(
            !looks_like_usersig(&all),
            "{args:?} printed something that looks like a UserSig:\n{all}"
        );
    }
    // A fixed UserSig given by the user is not echoed back either.
    let out = run(emu
        .tim()
        .env_remove("TIM_SECRET_KEY")
        .env("TIM_USERSIG", sig.expose())
        .args(["-vvv", "tags", "get", "u1"]));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains(sig.expose()));
    assert!(!looks_like_usersig(&all));
    // --help does not show the key from the environment.
    let out = run(emu.tim().arg("--help"));
    assert!(!stdout(&out).contains(KEY));
}

/// Whether `text` holds a UserSig-shaped token: zlib-in-base64 starts with "eJ", followed by at
/// least 40 characters of the UserSig alphabet.
fn looks_like_usersig(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(2).enumerate().any(|(i, w)| {
        w == b"eJ"
            && bytes[i + 2..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'_'))
                .count()
                >= 40
    })
}

#[test]
fn the_detector_finds_real_usersigs() {
    let sig = tim_core::usersig::generate(1, &tim_core::SecretKey::new("k"), "a", 1, 1);
    assert!(looks_like_usersig(&format!("x usersig={} y", sig.expose())));
    assert!(!looks_like_usersig("eJust a word"));
}
