//! `HyperTransport::from_client` sends through the hyper-util client it is handed, as it is,
//! and keeps its own answer-size limit. The server is a one-shot fake on 127.0.0.1.

use std::io::{BufRead as _, BufReader, ErrorKind, Read as _, Write as _};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use tim_hyper::hyper_rustls::HttpsConnectorBuilder;
use tim_hyper::hyper_util::client::legacy::{Client as LegacyClient, connect::HttpConnector};
use tim_hyper::hyper_util::rt::{TokioExecutor, TokioTimer};
use tim_hyper::{BodyTooLarge, HyperClient, HyperTransport, Sent, Transport, http, rustls};

const PATH_AND_QUERY: &str = "/v4/all_member_push/im_get_tag?sdkappid=1400000000\
                              &identifier=administrator&usersig=secret-usersig&random=7\
                              &contenttype=json";
const REQUEST_BODY: &[u8] = br#"{"To_Account":["user1"]}"#;
const ANSWER_BODY: &str = r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UserTags":[]}"#;

/// What the fake server saw of the one request it served.
#[derive(Debug)]
struct Seen {
    request_line: String,
    host: Option<String>,
    body: Vec<u8>,
}

/// A one-shot HTTP/1.1 server on 127.0.0.1: serves the first connection (reads the request
/// line, the headers and a `content-length` body, answers a fixed 200 JSON answer) and returns
/// what it read. Gives up after 20 seconds without a connection.
fn fake_server() -> (u16, thread::JoinHandle<Option<Seen>>) {
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
        let mut host = None;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse().unwrap();
                } else if name.eq_ignore_ascii_case("host") {
                    host = Some(value.trim().to_owned());
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
            host,
            body,
        })
    });
    (port, handle)
}

/// A hyper-util client built by hand, as a user would.
fn users_client() -> HyperClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(2)));
    let https = HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .unwrap()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    LegacyClient::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_max_idle_per_host(1)
        .build(https)
}

fn request(port: u16) -> http::Request<Vec<u8>> {
    http::Request::post(format!("http://127.0.0.1:{port}{PATH_AND_QUERY}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(REQUEST_BODY.to_vec())
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn from_client_sends_through_the_users_client() {
    let (port, server) = fake_server();
    let transport = HyperTransport::from_client(users_client());
    let response = transport.send(request(port)).await.unwrap();
    assert_eq!(response.status(), http::StatusCode::OK);
    assert_eq!(response.body().as_ref(), ANSWER_BODY.as_bytes());
    let seen = server.join().unwrap().expect("nothing connected");
    assert_eq!(seen.request_line, format!("POST {PATH_AND_QUERY} HTTP/1.1"));
    assert_eq!(seen.host, Some(format!("127.0.0.1:{port}")));
    assert_eq!(seen.body, REQUEST_BODY);
}

#[tokio::test(flavor = "current_thread")]
async fn from_client_keeps_the_answer_size_limit() {
    let (port, server) = fake_server();
    let transport = HyperTransport::from_client(users_client()).with_max_response_bytes(10);
    let e = transport.send(request(port)).await.unwrap_err();
    assert_eq!(e.sent(), Sent::Maybe);
    let cause = std::error::Error::source(&e).unwrap();
    assert_eq!(
        cause.downcast_ref::<BodyTooLarge>(),
        Some(&BodyTooLarge::new(10))
    );
    server.join().unwrap().expect("nothing connected");
}
