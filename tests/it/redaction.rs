//! No secret leaks: every error path of the client, over both transports, with `tracing` at
//! TRACE into a buffer; neither the key nor any UserSig the server received may appear in the
//! logs or in any error's Display, alternate Display, Debug or cause chain.

use std::fmt::Write as _;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tim_core::all_member_push::GetTagRequest;
use tim_core::http::StatusCode;
use tim_core::{BaseUrl, Client, Error, MakeTransport, RetryPolicy};

use crate::client_suite::{ADMIN, KEY, SDKAPPID, builder, push_request};
use crate::http_server::{Reply, Server};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Everything an error can show.
fn describe(out: &mut String, e: &Error) {
    let _ = write!(out, "{e}\n{e:#}\n{e:?}\n{e:#?}\n");
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let _ = write!(out, "{c}\n{c:?}\n");
        cause = c.source();
    }
}

/// Each scenario: what the server answers, and whether the call is a push.
fn scenarios() -> Vec<(&'static str, Reply, bool)> {
    vec![
        ("api error", Reply::fail(90009, "need admin"), false),
        ("70001 twice", Reply::fail(70001, "expired"), false),
        (
            "502 html",
            Reply::Raw(
                StatusCode::BAD_GATEWAY,
                "text/html",
                b"<h1>502</h1>".to_vec(),
            ),
            false,
        ),
        (
            "truncated",
            Reply::Raw(
                StatusCode::OK,
                "application/json",
                br#"{"ActionSta"#.to_vec(),
            ),
            false,
        ),
        (
            "non-json",
            Reply::Raw(StatusCode::OK, "text/plain", b"oops".to_vec()),
            false,
        ),
        (
            "cut short",
            Reply::CutShort {
                declared: 100,
                sent: b"{".to_vec(),
            },
            false,
        ),
        ("dropped", Reply::Drop, true),
        ("hang", Reply::Hang, true),
        ("60007", Reply::fail(60007, "slow down"), false),
        ("91000 push", Reply::fail(91000, "internal"), true),
        ("ok", Reply::ok(json!({"UserTags": []})), false),
    ]
}

async fn no_secret_in_logs_or_errors<T: MakeTransport>() {
    let logs = Buffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut shown = String::new();
    let mut usersigs: Vec<String> = Vec::new();
    for (name, reply, push) in scenarios() {
        let server = Server::start(move |_, _| reply.clone()).await;
        let client: Client<T> = builder::<T>(&server)
            .with_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let result = if push {
            client
                .all_member_push()
                .push(push_request(1))
                .await
                .map(|_| ())
        } else {
            client
                .all_member_push()
                .get_tag(GetTagRequest::new(["u1"]))
                .await
                .map(|_| ())
        };
        match (name, result) {
            ("ok", Ok(())) => {}
            (_, Err(e)) => describe(&mut shown, &e),
            (name, Ok(())) => panic!("{name}: expected an error"),
        }
        let _ = write!(shown, "{client:?}\n{client:#?}\n");
        usersigs.extend(server.seen().iter().map(|s| s.usersig()));
    }

    // A server that echoes the URL (with the UserSig) in an error page and in ErrorInfo.
    let server = Server::start(|seen, i| {
        let url = format!(
            "{}?usersig={}&random={}",
            seen.path,
            seen.usersig(),
            seen.random()
        );
        if i == 0 {
            Reply::Raw(
                StatusCode::NOT_FOUND,
                "text/html",
                format!("<p>No such page: {url}</p>").into_bytes(),
            )
        } else {
            Reply::fail(70003, &format!("bad usersig {}", seen.usersig()))
        }
    })
    .await;
    let client: Client<T> = builder::<T>(&server).build().unwrap();
    for _ in 0..2 {
        let e = client
            .all_member_push()
            .get_tag(GetTagRequest::new(["u1"]))
            .await
            .unwrap_err();
        describe(&mut shown, &e);
    }
    usersigs.extend(server.seen().iter().map(|s| s.usersig()));

    // A server that is not there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client: Client<T> = Client::<T>::builder()
        .with_sdkappid(SDKAPPID)
        .with_secret_key(KEY)
        .with_identifier(ADMIN)
        .with_base_url(BaseUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap())
        .with_retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let e = client
        .all_member_push()
        .push(push_request(2))
        .await
        .unwrap_err();
    describe(&mut shown, &e);
    // A request refused before sending.
    let too_many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let e = client
        .all_member_push()
        .get_tag(GetTagRequest::new(too_many))
        .await
        .unwrap_err();
    describe(&mut shown, &e);

    drop(_guard);
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("{logs}");
    }
    // The test is not vacuous: attempts were logged, with the redacted URL, and the server saw
    // real UserSigs.
    assert!(logs.contains("tim.attempt"), "{logs}");
    assert!(logs.contains("usersig=<redacted>"), "{logs}");
    // Every attempt's span carries its fields.
    for field in [
        "endpoint=\"im_get_tag\"",
        "endpoint=\"im_push\"",
        "attempt=1",
        "attempt=3",
        "random=",
        "status=502",
        "status=200",
        "error_code=90009",
        "error_code=70001",
        "latency_ms=",
    ] {
        assert!(logs.contains(field), "{field} missing from:\n{logs}");
    }
    assert!(usersigs.len() >= 12, "{}", usersigs.len());
    assert!(usersigs.iter().all(|s| s.len() > 50));
    assert!(
        shown.contains("<redacted>"),
        "the echoed UserSig was scrubbed"
    );

    for (what, text) in [("logs", &logs), ("errors", &shown)] {
        assert!(!text.contains(KEY), "the key appears in the {what}");
        for sig in &usersigs {
            assert!(
                !text.contains(sig.as_str()),
                "a UserSig appears in the {what}"
            );
        }
    }
}

#[tokio::test]
async fn reqwest_leaks_no_secret() {
    no_secret_in_logs_or_errors::<tim_reqwest::ReqwestTransport>().await;
}

#[tokio::test]
async fn hyper_leaks_no_secret() {
    no_secret_in_logs_or_errors::<tim_hyper::HyperTransport>().await;
}
