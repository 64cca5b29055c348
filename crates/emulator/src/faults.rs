//! Fault injection: which call suffers which fault (seeded, or forced by the handle or the
//! admin path), and the answers of the faults that replace the service's.

use std::collections::VecDeque;

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::Full;

use crate::config::{FaultKind, FaultSpec};

/// The HTML a gateway sends with a 502.
const BAD_GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>stgw</center>\r\n</body>\r\n</html>\r\n";

/// The page a misconfigured proxy sends with a 200 (the `non-json` fault).
const MAINTENANCE_HTML: &str = "<!DOCTYPE html>\r\n<html><head><title>Service maintenance</title></head>\r\n<body><h1>We'll be back soon</h1></body></html>\r\n";

#[derive(Debug)]
pub(crate) struct FaultPicker {
    rng: fastrand::Rng,
    specs: Vec<FaultSpec>,
    forced: VecDeque<FaultKind>,
}

impl FaultPicker {
    pub(crate) fn new(seed: u64, specs: Vec<FaultSpec>) -> Self {
        Self {
            rng: fastrand::Rng::with_seed(seed),
            specs,
            forced: VecDeque::new(),
        }
    }

    /// Makes the next call suffer `kind` (queued).
    pub(crate) fn force(&mut self, kind: FaultKind) {
        self.forced.push_back(kind);
    }

    /// A forced fault first, else one draw against the configured rates laid end to end.
    pub(crate) fn pick(&mut self) -> Option<FaultKind> {
        if let Some(k) = self.forced.pop_front() {
            return Some(k);
        }
        if self.specs.is_empty() {
            return None;
        }
        let x = self.rng.f64();
        let mut edge = 0.0;
        for spec in &self.specs {
            edge += spec.rate;
            if x < edge {
                return Some(spec.kind);
            }
        }
        None
    }
}

fn html(status: StatusCode, page: &'static str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(page.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html"),
    );
    resp
}

/// What a fault answers instead of the service, before the call reaches it: an HTML page, or
/// an envelope's code and text. `None`: the call goes on (the fault acts after it, or delays it).
pub(crate) enum Instead {
    Page(Response<Full<Bytes>>),
    Envelope(i64, &'static str),
}

pub(crate) fn instead(kind: FaultKind) -> Option<Instead> {
    use tim_core::ErrorCode;
    Some(match kind {
        FaultKind::BadGateway => Instead::Page(html(StatusCode::BAD_GATEWAY, BAD_GATEWAY_HTML)),
        FaultKind::NonJson => Instead::Page(html(StatusCode::OK, MAINTENANCE_HTML)),
        FaultKind::InternalError => Instead::Envelope(
            ErrorCode::InternalError.code(),
            "internal error, please retry (injected fault)",
        ),
        FaultKind::RateLimited => Instead::Envelope(
            ErrorCode::RateLimited.code(),
            "REST API calls exceed the frequency limit (injected fault)",
        ),
        FaultKind::UsersigExpired => Instead::Envelope(
            ErrorCode::UserSigExpired.code(),
            "usersig expired (injected fault)",
        ),
        _ => return None,
    })
}
