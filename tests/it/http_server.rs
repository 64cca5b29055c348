//! A small local HTTP server for the client suite: real HTTP/1.1 on loopback (hyper), one
//! scripted answer per request, and a record of every request and connection.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tim_core::BaseUrl;
use tim_core::http::{self, StatusCode};
use tokio::net::TcpListener;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) method: http::Method,
    pub(crate) path: String,
    /// Query parameters in order, percent-decoded.
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
    /// Which TCP connection (0-based, in accept order) carried it.
    pub(crate) connection: usize,
    pub(crate) at: Instant,
}

impl Seen {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn usersig(&self) -> String {
        self.param("usersig").unwrap_or_default().to_owned()
    }

    pub(crate) fn random(&self) -> String {
        self.param("random").unwrap_or_default().to_owned()
    }

    /// `service/command`.
    pub(crate) fn endpoint(&self) -> &str {
        self.path.strip_prefix("/v4/").unwrap_or(&self.path)
    }

    pub(crate) fn command(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or_default()
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// What the server does with one request.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// HTTP 200 with this JSON.
    Json(Value),
    /// Any status, content type and body bytes.
    Raw(StatusCode, &'static str, Vec<u8>),
    /// Declares `declared` bytes, sends `sent`, then closes the connection.
    CutShort { declared: usize, sent: Vec<u8> },
    /// Reads the request, then closes the connection without answering.
    Drop,
    /// Reads the request and never answers.
    Hang,
}

impl Reply {
    pub(crate) fn ok(fields: Value) -> Self {
        let mut v = serde_json::json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""});
        if let (Some(o), Value::Object(f)) = (v.as_object_mut(), fields) {
            o.extend(f);
        }
        Reply::Json(v)
    }

    pub(crate) fn fail(code: i64, info: &str) -> Self {
        Reply::Json(
            serde_json::json!({"ActionStatus": "FAIL", "ErrorCode": code, "ErrorInfo": info}),
        )
    }
}

type Handler = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

pub(crate) struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Starts a server on 127.0.0.1 that answers request number `i` (0-based, over the
    /// server's life) with `handler(&request, i)`.
    pub(crate) async fn start(
        handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let connections = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let task = {
            let seen = Arc::clone(&seen);
            let connections = Arc::clone(&connections);
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let connection = connections.fetch_add(1, Ordering::SeqCst);
                    let seen = Arc::clone(&seen);
                    let handler = Arc::clone(&handler);
                    tokio::spawn(async move {
                        let service = service_fn(move |req| {
                            let seen = Arc::clone(&seen);
                            let handler = Arc::clone(&handler);
                            async move { answer(req, connection, &seen, &*handler).await }
                        });
                        // Errors here are the scripted drops and cut-short bodies.
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            })
        };
        Self {
            addr,
            seen,
            connections,
            task,
        }
    }

    pub(crate) fn base_url(&self) -> BaseUrl {
        BaseUrl::parse(&format!("http://{}", self.addr)).unwrap()
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

type Body = BoxBody<Bytes, std::io::Error>;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

fn decode_component(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

async fn answer(
    req: http::Request<Incoming>,
    connection: usize,
    seen: &Mutex<Vec<Seen>>,
    handler: &Handler,
) -> Result<http::Response<Body>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let query = parts
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect();
    let request = Seen {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query,
        headers: parts.headers,
        body,
        connection,
        at: Instant::now(),
    };
    let index = {
        let mut all = seen.lock().unwrap();
        all.push(request.clone());
        all.len() - 1
    };
    let reply = handler(&request, index);
    let response = |status: StatusCode, content_type: &str, body: Body| {
        http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(body)
            .unwrap()
    };
    match reply {
        Reply::Json(v) => Ok(response(
            StatusCode::OK,
            "application/json",
            full(serde_json::to_vec(&v).unwrap()),
        )),
        Reply::Raw(status, content_type, bytes) => Ok(response(status, content_type, full(bytes))),
        Reply::CutShort { declared, sent } => {
            let frames = futures_util::stream::iter([
                Ok(Frame::data(Bytes::from(sent))),
                Err(std::io::Error::other("connection cut by the test server")),
            ]);
            let mut r = response(
                StatusCode::OK,
                "application/json",
                BodyExt::boxed(StreamBody::new(frames)),
            );
            r.headers_mut()
                .insert(http::header::CONTENT_LENGTH, declared.into());
            Ok(r)
        }
        Reply::Drop => Err(std::io::Error::other(
            "connection dropped by the test server",
        )),
        Reply::Hang => std::future::pending().await,
    }
}
