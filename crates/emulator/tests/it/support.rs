//! A black-box client for the emulator: hyper-util's legacy client over loopback, URLs built
//! by hand so that tests can send anything (including what a good client never would).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tim_core::{SecretKey, usersig};
use tim_emulator::{Clock, EmulatorBuilder, EmulatorHandle, ManualClock, SystemClock};

/// Every call in these tests must finish well within this.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub(crate) fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Who to call and how to sign.
pub(crate) struct Api {
    pub(crate) base_url: String,
    pub(crate) sdkappid: u64,
    pub(crate) admin: String,
    pub(crate) key: SecretKey,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) client: HttpClient,
    /// The emulator, when this process runs it.
    pub(crate) emu: Option<EmulatorHandle>,
}

/// A clock stopped at a fixed, realistic time (2024-06-01T00:00:00Z).
pub(crate) fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::from_unix_ms(1_717_200_000_000))
}

impl Api {
    /// Starts an emulator from `builder` with `clock`.
    pub(crate) async fn start_with_clock(builder: EmulatorBuilder, clock: Arc<ManualClock>) -> Api {
        let emu = builder
            .with_clock(clock.clone())
            .start()
            .await
            .expect("emulator starts");
        Api::for_handle(emu, clock)
    }

    /// Starts an emulator from `builder` on the system clock.
    pub(crate) async fn start(builder: EmulatorBuilder) -> Api {
        let emu = builder.start().await.expect("emulator starts");
        Api::for_handle(emu, Arc::new(SystemClock))
    }

    fn for_handle(emu: EmulatorHandle, clock: Arc<dyn Clock>) -> Api {
        Api {
            base_url: emu.base_url().to_owned(),
            sdkappid: emu.sdkappid(),
            admin: emu.admin().to_owned(),
            key: emu.key().clone(),
            clock,
            client: http_client(),
            emu: Some(emu),
        }
    }

    /// A client for an emulator running elsewhere (another process).
    pub(crate) fn remote(base_url: &str, sdkappid: u64, admin: &str, key: SecretKey) -> Api {
        Api {
            base_url: base_url.to_owned(),
            sdkappid,
            admin: admin.to_owned(),
            key,
            clock: Arc::new(SystemClock),
            client: http_client(),
            emu: None,
        }
    }

    pub(crate) fn emu(&self) -> &EmulatorHandle {
        self.emu.as_ref().expect("in-process emulator")
    }

    /// A valid UserSig for `identifier`, issued now by the test's clock, valid a day.
    pub(crate) fn sig_for(&self, identifier: &str) -> String {
        usersig::generate(
            self.sdkappid,
            &self.key,
            identifier,
            self.clock.unix_time(),
            86_400,
        )
        .expose()
        .to_owned()
    }

    /// The query string of a valid call by the admin.
    pub(crate) fn query(&self) -> String {
        format!(
            "sdkappid={}&identifier={}&usersig={}&random={}&contenttype=json",
            self.sdkappid,
            self.admin,
            self.sig_for(&self.admin),
            fastrand::u32(..)
        )
    }

    /// Sends a raw request; `Err` when the connection failed or was dropped.
    pub(crate) async fn raw(
        &self,
        method: Method,
        path_and_query: &str,
        body: impl Into<Bytes>,
    ) -> Result<(StatusCode, http::HeaderMap, Bytes), String> {
        let req = Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base_url, path_and_query))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body.into()))
            .map_err(|e| e.to_string())?;
        let fut = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| format!("{e:?}"))?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("{e:?}"))?
                .to_bytes();
            Ok((status, headers, body))
        };
        tokio::time::timeout(CALL_TIMEOUT, fut)
            .await
            .map_err(|_| "timed out".to_owned())?
    }

    /// POSTs raw bytes to `command` (`service/command`, or a bare push-family command) with the
    /// given query; answers the envelope (HTTP 200 asserted).
    pub(crate) async fn post_bytes(
        &self,
        command: &str,
        query: &str,
        body: impl Into<Bytes>,
    ) -> Value {
        let (status, _, bytes) = self
            .raw(
                Method::POST,
                &if command.contains('/') {
                    format!("/v4/{command}?{query}")
                } else {
                    format!("/v4/all_member_push/{command}?{query}")
                },
                body,
            )
            .await
            .expect("the call is answered");
        assert_eq!(
            status,
            StatusCode::OK,
            "body: {}",
            String::from_utf8_lossy(&bytes)
        );
        serde_json::from_slice(&bytes).expect("the answer is JSON")
    }

    /// A valid, signed call of `command` with `body`.
    pub(crate) async fn call(&self, command: &str, body: Value) -> Value {
        let q = self.query();
        self.post_bytes(command, &q, body.to_string()).await
    }

    /// Like [`Api::call`], asserting success.
    pub(crate) async fn ok(&self, command: &str, body: Value) -> Value {
        let v = self.call(command, body.clone()).await;
        assert_eq!(code(&v), 0, "{command} {body} answered {v}");
        assert_eq!(v["ActionStatus"], "OK", "{v}");
        v
    }

    /// Like [`Api::call`], asserting the error code.
    pub(crate) async fn fails(&self, command: &str, body: Value, expected: i64) -> Value {
        let v = self.call(command, body.clone()).await;
        assert_eq!(code(&v), expected, "{command} {body} answered {v}");
        assert_eq!(v["ActionStatus"], "FAIL", "{v}");
        assert!(
            v["ErrorInfo"].as_str().is_some_and(|s| !s.is_empty()),
            "{v}"
        );
        v
    }

    /// GET an inspection path.
    pub(crate) async fn inspect(&self, what: &str) -> Value {
        let (status, _, body) = self
            .raw(Method::GET, &format!("/__emulator/{what}"), Bytes::new())
            .await
            .expect("answered");
        assert_eq!(status, StatusCode::OK);
        serde_json::from_slice(&body).expect("JSON")
    }

    pub(crate) async fn tags_of(&self, accounts: &[&str]) -> Vec<Vec<String>> {
        let v = self
            .ok("im_get_tag", json!({ "To_Account": accounts }))
            .await;
        v["UserTags"]
            .as_array()
            .expect("UserTags")
            .iter()
            .map(|u| {
                u["Tags"]
                    .as_array()
                    .expect("Tags")
                    .iter()
                    .map(|t| t.as_str().expect("tag").to_owned())
                    .collect()
            })
            .collect()
    }
}

/// `ErrorCode` of an envelope.
pub(crate) fn code(v: &Value) -> i64 {
    v["ErrorCode"]
        .as_i64()
        .unwrap_or_else(|| panic!("no ErrorCode in {v}"))
}

/// A text message body.
pub(crate) fn text(msg: &str) -> Value {
    json!([{ "MsgType": "TIMTextElem", "MsgContent": { "Text": msg } }])
}

/// A fresh empty directory for state files.
pub(crate) fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tim-emulator-it-{}-{name}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The spec, through the same typed model the code generator reads.
pub(crate) fn spec() -> tim_spec::Model {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    tim_spec::load(root).unwrap_or_else(|e| panic!("spec/ is valid:\n{}", e.join("\n")))
}
