//! The transport goes through an HTTP proxy: one set on a `reqwest::Client` handed in with
//! `ReqwestTransport::from_client`, and the one named by `HTTP_PROXY` for the client that
//! `ReqwestTransport::new` (so `Client::builder().build()`) makes. The proxy is a one-shot fake
//! on 127.0.0.1; the target host `example.invalid` is never resolved (the proxy is asked for it).

use std::error::Error as _;
use std::io::{BufRead as _, BufReader, ErrorKind, Read as _, Write as _};
use std::net::TcpListener;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use tim_reqwest::{ReqwestTransport, Sent, Transport, TransportConfig, http, reqwest};

const URL: &str = "http://example.invalid/v4/all_member_push/im_get_tag?sdkappid=1400000000\
                   &identifier=administrator&usersig=secret-usersig&random=7&contenttype=json";
const REQUEST_BODY: &[u8] = br#"{"To_Account":["user1"]}"#;
const ANSWER_BODY: &str = r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UserTags":[]}"#;

/// Set in the child process of [`new_goes_through_the_proxy_of_the_environment`].
const CHILD: &str = "TIM_REQWEST_TEST_ENV_PROXY_CHILD";

/// What the fake proxy saw of the one request it served.
#[derive(Debug)]
struct Seen {
    request_line: String,
    body: Vec<u8>,
}

/// A one-shot HTTP proxy on 127.0.0.1: serves the first connection (reads the request line,
/// the headers and a `content-length` body, answers a fixed HTTP/1.1 200 JSON answer) and
/// returns what it read. Gives up after 20 seconds without a connection.
fn fake_proxy() -> (u16, thread::JoinHandle<Option<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let handle = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(10));
                }
                Err(_) => return None,
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(stream);
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut content_length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body).unwrap();
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{ANSWER_BODY}",
            ANSWER_BODY.len()
        );
        reader.get_mut().write_all(answer.as_bytes()).unwrap();
        Some(Seen {
            request_line: request_line.trim_end().to_owned(),
            body,
        })
    });
    (port, handle)
}

fn request() -> http::Request<Vec<u8>> {
    http::Request::post(URL)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(REQUEST_BODY.to_vec())
        .unwrap()
}

/// Sends [`request`] through `transport` and checks the answer.
async fn send_and_check(transport: &impl Transport) {
    let response = transport.send(request()).await.unwrap();
    assert_eq!(response.status(), http::StatusCode::OK);
    assert_eq!(response.body().as_ref(), ANSWER_BODY.as_bytes());
}

/// The proxy was asked, in absolute form, for the very request that was sent.
fn assert_proxied(proxy: thread::JoinHandle<Option<Seen>>) {
    let seen = proxy
        .join()
        .unwrap()
        .expect("nothing connected to the proxy");
    assert_eq!(seen.request_line, format!("POST {URL} HTTP/1.1"));
    assert_eq!(seen.body, REQUEST_BODY);
}

#[tokio::test(flavor = "current_thread")]
async fn from_client_goes_through_the_clients_proxy() {
    let (port, proxy) = fake_proxy();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .proxy(reqwest::Proxy::http(format!("http://127.0.0.1:{port}")).unwrap())
        .build()
        .unwrap();
    let transport = ReqwestTransport::from_client(http);
    send_and_check(&transport).await;
    assert_proxied(proxy);
}

#[tokio::test(flavor = "current_thread")]
async fn an_unreachable_proxy_is_not_sent_and_names_no_url() {
    // A port nothing listens on: bind, note it, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let http = ReqwestTransport::client_builder(&TransportConfig::default())
        .proxy(reqwest::Proxy::http(format!("http://127.0.0.1:{port}")).unwrap())
        .build()
        .unwrap();
    let transport = ReqwestTransport::from_client(http);
    let e = transport.send(request()).await.unwrap_err();
    assert_eq!(e.sent(), Sent::No);
    let mut chain = format!("{e:?}");
    let mut cause = e.source();
    while let Some(c) = cause {
        chain.push_str(&format!(" / {c}"));
        cause = c.source();
    }
    assert!(!chain.contains("secret-usersig"), "{chain}");
    assert!(!chain.contains("example.invalid"), "{chain}");
}

/// `new` honours `HTTP_PROXY`. The variable is set for a child process (this test binary,
/// running only this test), as setting it here would reach the other tests' threads.
#[test]
fn new_goes_through_the_proxy_of_the_environment() {
    if std::env::var_os(CHILD).is_some() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let transport = ReqwestTransport::new(&TransportConfig::default()).unwrap();
            send_and_check(&transport).await;
        });
        return;
    }
    let (port, proxy) = fake_proxy();
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "--exact",
            "new_goes_through_the_proxy_of_the_environment",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("HTTP_PROXY", format!("http://127.0.0.1:{port}"));
    for var in [
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "REQUEST_METHOD",
    ] {
        child.env_remove(var);
    }
    let output = child.output().unwrap();
    assert!(
        output.status.success(),
        "child test failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "the child ran no test:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_proxied(proxy);
}
