//! The JSON API under `/api/v1` for the bureau's own systems, with the same JSON as
//! the CLI: `GET reports/coverage` (`month`, or `from` and `to`; `as_of`, `staff`),
//! `GET reports/ledger` (`from`, `to`, `staff`), `GET contacts` (`person`),
//! `POST contacts` and `POST events` (JSON bodies as `contact add` and `event add`
//! take them). A bearer token (`QINQING_HTTP_API_TOKEN`) is required and compared
//! in constant time; without one configured the API does not exist (404). A wrong
//! or missing token gets 401 and no data. Every read is written to the audit log
//! under `http.api_token_name`. An event recorded here is planned by the daemon at
//! its next watch (`schedule.watch_every_secs`).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::HttpState;
use crate::service::coverage::{CoverageQuery, month_period};
use crate::service::events::{EventReport, record};
use crate::service::records::{ContactRecorded, ContactReport, record_contact};
use crate::service::reports;

/// The API's token and the name the audit log gives its caller.
#[derive(Clone)]
pub struct ApiAccess {
    token_hash: [u8; 32],
    pub name: String,
}

impl ApiAccess {
    pub fn new(token: &str, name: &str) -> ApiAccess {
        ApiAccess {
            token_hash: Sha256::digest(token.as_bytes()).into(),
            name: name.to_string(),
        }
    }

    /// Compares the digests byte by byte without stopping early.
    fn admits(&self, presented: &str) -> bool {
        let got: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        got.iter()
            .zip(self.token_hash.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// Why a request was refused before it was read.
enum Refusal {
    /// No token is configured: the API does not exist.
    Off,
    Unauthorized,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Off => super::not_found(),
            Refusal::Unauthorized => {
                let mut r = error(StatusCode::UNAUTHORIZED, "unauthorized");
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
                r
            }
        }
    }
}

/// The caller's name when the bearer token is right.
fn authorise(state: &HttpState, headers: &HeaderMap) -> Result<String, Refusal> {
    let Some(access) = &state.api else {
        return Err(Refusal::Off);
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(t) if access.admits(t) => Ok(access.name.clone()),
        _ => Err(Refusal::Unauthorized),
    }
}

fn bad_request(e: anyhow::Error) -> Response {
    error(StatusCode::BAD_REQUEST, format!("{e:#}"))
}

#[derive(Debug, Deserialize)]
pub struct CoverageParams {
    month: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    as_of: Option<NaiveDate>,
    staff: Option<String>,
}

pub async fn coverage(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(p): Query<CoverageParams>,
) -> Response {
    let who = match authorise(&state, &headers) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let (from, to) = match (&p.month, p.from, p.to) {
        (Some(m), None, None) => match month_period(m) {
            Ok(x) => x,
            Err(e) => return bad_request(e),
        },
        (None, Some(f), Some(t)) => (f, t),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "give month=YYYY-MM, or from and to (YYYY-MM-DD)",
            );
        }
    };
    let q = CoverageQuery {
        from,
        to,
        as_of: p.as_of.unwrap_or_else(|| state.today()),
        staff: p.staff,
    };
    let titles = state
        .rules()
        .await
        .rules
        .iter()
        .map(|r| (r.id.clone(), r.title.clone()))
        .collect();
    match reports::coverage_for(&state.store, &q, &titles, &who, state.clock.now()).await {
        Ok(c) => Json(c).into_response(),
        Err(e) => bad_request(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct LedgerParams {
    from: NaiveDate,
    to: NaiveDate,
    staff: Option<String>,
}

pub async fn ledger(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(p): Query<LedgerParams>,
) -> Response {
    let who = match authorise(&state, &headers) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    if p.to < p.from {
        return error(StatusCode::BAD_REQUEST, "to is before from");
    }
    let now = state.clock.now();
    let (from, to) = (Some(p.from), Some(p.to));
    match reports::ledger_for(&state.store, from, to, p.staff, None, &who, now).await {
        Ok(lines) => Json(lines).into_response(),
        Err(e) => bad_request(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct ContactsParams {
    person: String,
}

/// A person's whole history, across staff.
pub async fn contacts(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(p): Query<ContactsParams>,
) -> Response {
    let who = match authorise(&state, &headers) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let now = state.clock.now();
    match reports::ledger_for(&state.store, None, None, None, Some(p.person), &who, now).await {
        Ok(lines) => Json(lines).into_response(),
        Err(e) => bad_request(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct NewContactBody {
    person: String,
    staff: String,
    kind: String,
    on: Option<NaiveDate>,
    note: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
}

pub async fn add_contact(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Result<Json<NewContactBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Err(r) = authorise(&state, &headers) {
        return r.into_response();
    }
    let Json(b) = match body {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let kind = match b.kind.as_str() {
        "call" => "call",
        "visit" => "visit",
        "deliver" => "deliver",
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("kind {other:?}: give call, visit or deliver"),
            );
        }
    };
    let outcome = match b.outcome.as_deref() {
        None | Some("done") => crate::ledger::Outcome::Done,
        Some("not_done") => crate::ledger::Outcome::NotDone,
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("outcome {other:?}: give done or not_done"),
            );
        }
    };
    let report = ContactReport {
        person: b.person,
        staff: b.staff,
        kind,
        on: b.on.unwrap_or_else(|| state.today()),
        note: b.note,
        reference: b.reference,
        outcome,
    };
    match record_contact(&state.store, &report, state.clock.now()).await {
        Ok(ContactRecorded::Acknowledged(a)) => (
            if a.already.is_some() {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            },
            Json(json!({
                "recorded": a.already.is_none(),
                "reference": a.reference,
                "on": a.on,
                "already_by": a.already.as_ref().and_then(|c| c.entry.staff_number.clone()),
                "already_on": a.already.as_ref().map(|c| c.entry.on),
            })),
        )
            .into_response(),
        Ok(ContactRecorded::Logged) => {
            (StatusCode::CREATED, Json(json!({ "recorded": true }))).into_response()
        }
        Err(e) => bad_request(e),
    }
}

pub async fn add_event(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Result<Json<EventReport>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Err(r) = authorise(&state, &headers) {
        return r.into_response();
    }
    let Json(e) = match body {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    match record(&state.store, &e, state.clock.now()).await {
        Ok(out) => (
            if out.recorded {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            Json(out),
        )
            .into_response(),
        Err(e) => bad_request(e),
    }
}
