//! The HTTP server: the axum router and [`serve`], which takes a bound listener and
//! a shutdown future from its caller (the daemon binds `http.listen`; tests bind
//! port 0), so no port is guessed and the server stops gracefully. Handlers call
//! `service`; none holds business logic or SQL.
//!
//! Routes:
//! - `GET /healthz`: JSON `{"status": "ok"|"degraded"|"failing", "store", "last_tick",
//!   "last_tick_at", "last_tick_age_secs", "rules": {"loaded", "reloaded_at", "errors"},
//!   "roster_errors", "deliveries": {"pending", "failed"}}`; 200 unless failing (503).
//! - `GET|POST /a/{token}`: the acknowledgement page of one occasion; POST takes the
//!   form fields `outcome` (`visited`, `called`, `delivered`, `not_done`), `on`
//!   (YYYY-MM-DD, default today, never in the future, up to 30 days back) and `note`
//!   (required with `not_done`). It answers 200 with a page saying what was recorded.
//! - `GET /s/{token}`: the staff member's worklist (and team section for a 上级);
//!   `GET|POST /s/{token}/o/{reference}`: an occasion on that list, answered like
//!   `/a/`; `GET /s/{token}/worklist.json`; `GET /s/{token}/calendar.ics`.
//! - `GET /metrics`: Prometheus metrics (see `service::metrics`).
//! - `GET /static/qinqing.css`.
//! - `/api/v1/…`: the JSON API for the bureau's systems, behind a bearer token
//!   (see `api`).
//!
//! Every response carries `Referrer-Policy: no-referrer`, `Cache-Control: no-store`,
//! a strict `Content-Security-Policy` (nothing but this server's stylesheet, forms
//! posting to this server) and `X-Content-Type-Options: nosniff`. Bodies are limited
//! to 16 KiB, headers to 16 KiB (431 beyond), the request target to 2 KiB and
//! requests to 15 s; a client address that presents more than 20 unknown tokens a
//! minute is answered 429 for the rest of that minute. The store
//! keeps one acknowledgement per occasion, so a double tap records once. An unknown
//! or tampered token gets a plain 404 page with no data.

mod api;
mod ics;
mod pages;

pub use api::ApiAccess;

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::RwLock;

use crate::clock::Clock;
use crate::links::{Link, LinkKind};
use crate::rules::RuleSet;
use crate::service::answer::{self, Answer, Recorded, Target};
use crate::service::links::{Resolved, resolve};
use crate::service::worklist;
use crate::store::Store;

/// Unknown tokens one client address may present per minute.
const FAILED_LOOKUPS_PER_MINUTE: u32 = 20;
const BODY_LIMIT: usize = 16 * 1024;
/// All request headers together, and the request target.
const HEADER_LIMIT: usize = 16 * 1024;
const URI_LIMIT: usize = 2048;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

/// What the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct HttpState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// The rules as the daemon last loaded them well (their calendar included).
    pub rules: Arc<RwLock<Arc<RuleSet>>>,
    /// `http.base_url`, for the links in the JSON and the feed (else the request's host).
    pub base_url: Option<String>,
    /// The JSON API's token; None: the API is off.
    pub api: Option<ApiAccess>,
    failures: Arc<Mutex<HashMap<IpAddr, (Instant, u32)>>>,
}

impl HttpState {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        rules: Arc<RwLock<Arc<RuleSet>>>,
        base_url: Option<String>,
    ) -> HttpState {
        HttpState {
            store,
            clock,
            rules,
            base_url,
            api: None,
            failures: Arc::default(),
        }
    }

    fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    async fn rules(&self) -> Arc<RuleSet> {
        self.rules.read().await.clone()
    }

    /// Whether `ip` is over its budget of unknown tokens this minute.
    fn limited(&self, ip: IpAddr) -> bool {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip).is_some_and(|(since, n)| {
            since.elapsed() < Duration::from_secs(60) && *n >= FAILED_LOOKUPS_PER_MINUTE
        })
    }

    fn count_failure(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (since, _)| since.elapsed() < Duration::from_secs(60));
        }
        let e = map.entry(ip).or_insert((Instant::now(), 0));
        if e.0.elapsed() >= Duration::from_secs(60) {
            *e = (Instant::now(), 0);
        }
        e.1 += 1;
    }
}

/// The routes.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/static/qinqing.css", get(css))
        .route("/a/{token}", get(ack_get).post(ack_post))
        .route("/s/{token}", get(worklist_get))
        .route("/s/{token}/o/{reference}", get(item_get).post(item_post))
        .route("/s/{token}/worklist.json", get(worklist_json))
        .route("/s/{token}/calendar.ics", get(calendar_ics))
        .route("/api/v1/reports/coverage", get(api::coverage))
        .route("/api/v1/reports/ledger", get(api::ledger))
        .route(
            "/api/v1/contacts",
            get(api::contacts).post(api::add_contact),
        )
        .route("/api/v1/events", axum::routing::post(api::add_event))
        .fallback(|| async { not_found() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(guard))
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in
/// flight finish.
pub async fn serve(
    listener: TcpListener,
    state: HttpState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The headers every response carries, the header limit and the request timeout.
async fn guard(req: Request, next: Next) -> Response {
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    let mut resp = if header_bytes > HEADER_LIMIT || req.uri().to_string().len() > URI_LIMIT {
        (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request headers too large",
        )
            .into_response()
    } else {
        match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
            Ok(r) => r,
            Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout").into_response(),
        }
    };
    let h = resp.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Html(pages::not_found_page())).into_response()
}

fn server_error(e: anyhow::Error) -> Response {
    tracing::error!("http: {e:#}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html("<!doctype html><meta charset=\"utf-8\"><p>服务暂时不可用,请稍后再试。</p>"),
    )
        .into_response()
}

/// `GET /healthz`: JSON (see `service::status::Health`); 200 when ok or degraded,
/// 503 when failing.
async fn healthz(State(state): State<HttpState>) -> Response {
    let rules = state.rules().await;
    let h = crate::service::status::health(&state.store, &rules, state.clock.now()).await;
    let code = if h.status == "failing" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, axum::Json(h)).into_response()
}

/// `GET /metrics`: Prometheus text exposition.
async fn metrics(State(state): State<HttpState>) -> Response {
    match crate::service::metrics::render(&state.store).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store: {e:#}")).into_response(),
    }
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        pages::CSS,
    )
        .into_response()
}

/// A link that works, or the response to give instead (expired page, 404, 429).
async fn link_or_page(
    state: &HttpState,
    ip: IpAddr,
    kind: LinkKind,
    token: &str,
) -> Result<Link, Response> {
    if state.limited(ip) {
        return Err((StatusCode::TOO_MANY_REQUESTS, "too many requests").into_response());
    }
    match resolve(&state.store, kind, token, state.today()).await {
        Ok(Resolved::Works(l)) => Ok(l),
        Ok(Resolved::Expired(_)) => Err((
            StatusCode::GONE,
            Html(pages::expired_page(kind == LinkKind::Ack)),
        )
            .into_response()),
        Ok(Resolved::Unknown) => {
            state.count_failure(ip);
            Err(not_found())
        }
        Err(e) => Err(server_error(e)),
    }
}

/// What a link of kind `K` opens, for a handler: the working link, its token and
/// this server's origin as the client reached it. Extracting it answers for the
/// handler when the link does not work (expired page, 404, 429).
struct Opened<K> {
    link: Link,
    token: String,
    origin: String,
    _kind: std::marker::PhantomData<K>,
}

/// `/a/{token}`: an acknowledgement link.
struct Ack;
/// `/s/{token}…`: a worklist link.
struct Work;

trait Kind {
    const KIND: LinkKind;
}
impl Kind for Ack {
    const KIND: LinkKind = LinkKind::Ack;
}
impl Kind for Work {
    const KIND: LinkKind = LinkKind::Worklist;
}

impl<K: Kind> Opened<K> {
    /// This link's own path (`/a/{token}` or `/s/{token}`).
    fn base(&self) -> String {
        format!("/{}/{}", K::KIND.segment(), self.token)
    }
}

impl<K: Kind + Send + Sync> axum::extract::FromRequestParts<HttpState> for Opened<K> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &HttpState,
    ) -> Result<Self, Response> {
        let ConnectInfo(addr) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        // The token is the segment after /a/ or /s/.
        let token = parts.uri.path().split('/').nth(2).unwrap_or("").to_string();
        let link = link_or_page(state, addr.ip(), K::KIND, &token).await?;
        Ok(Opened {
            link,
            origin: origin(state, &parts.headers),
            token,
            _kind: std::marker::PhantomData,
        })
    }
}

#[derive(Debug, Deserialize)]
struct AnswerForm {
    outcome: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    note: String,
}

/// The ack page for `target`, with `message` on top.
async fn show(
    state: &HttpState,
    target: &Target,
    action: &str,
    message: Option<(bool, String)>,
    status: StatusCode,
) -> Response {
    let rules = state.rules().await;
    match answer::page(&state.store, rules.calendar(), target).await {
        Ok(Some(p)) => (
            status,
            Html(pages::ack_page(&p, action, state.today(), message)),
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, Html(pages::gone_page())).into_response(),
        Err(e) => server_error(e),
    }
}

/// Parses a POSTed answer and records it: what was
/// recorded, or why not, in Chinese; Err only when the store fails.
async fn record_form(
    state: &HttpState,
    target: &Target,
    form: AnswerForm,
) -> Result<Result<Recorded, String>, Response> {
    let Some(outcome) = Answer::parse(form.outcome.trim()) else {
        return Ok(Err("请选择办理结果。".into()));
    };
    let on = match form.on.trim() {
        "" => state.today(),
        text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => return Ok(Err("日期格式应为 2026-09-18。".into())),
        },
    };
    let note = Some(form.note).filter(|n| !n.trim().is_empty());
    match answer::record(&state.store, target, outcome, on, note, state.clock.now()).await {
        Ok(r) => Ok(r.map_err(|refused| refused.to_string())),
        Err(e) => Err(server_error(e)),
    }
}

/// Records a POSTed answer and shows the occasion's page with what was done.
async fn answer_post(
    state: &HttpState,
    target: &Target,
    action: &str,
    form: AnswerForm,
) -> Response {
    let (message, status) = match record_form(state, target, form).await {
        Ok(Ok(r)) => (pages::recorded_text(&r), StatusCode::OK),
        Ok(Err(why)) => ((false, why), StatusCode::BAD_REQUEST),
        Err(resp) => return resp,
    };
    show(state, target, action, Some(message), status).await
}

async fn ack_get(State(state): State<HttpState>, a: Opened<Ack>) -> Result<Response, Response> {
    let target = Target::of_link(&a.link).ok_or_else(not_found)?;
    Ok(show(&state, &target, &a.base(), None, StatusCode::OK).await)
}

async fn ack_post(
    State(state): State<HttpState>,
    a: Opened<Ack>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, Response> {
    let target = Target::of_link(&a.link).ok_or_else(not_found)?;
    Ok(answer_post(&state, &target, &a.base(), form).await)
}

/// The target of `/s/{token}/o/{reference}`: an occasion reminded to the link's staff member.
async fn item_target(state: &HttpState, link: &Link, reference: &str) -> Result<Target, Response> {
    let reference = reference.trim().to_uppercase();
    if reference.len() != 6 || !reference.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(not_found());
    }
    let today = state.today();
    match Target::by_reference(&state.store, &link.link.staff_number, &reference, today).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err((StatusCode::NOT_FOUND, Html(pages::gone_page())).into_response()),
        Err(e) => Err(server_error(e)),
    }
}

async fn item_get(
    State(state): State<HttpState>,
    w: Opened<Work>,
    Path((_, reference)): Path<(String, String)>,
) -> Result<Response, Response> {
    let target = item_target(&state, &w.link, &reference).await?;
    let action = format!("{}/o/{reference}", w.base());
    Ok(show(&state, &target, &action, None, StatusCode::OK).await)
}

/// From the worklist's inline buttons: a done answer is recorded and the list shown
/// again; 未能完成 needs a reason, so the occasion's own page asks for it.
async fn item_post(
    State(state): State<HttpState>,
    w: Opened<Work>,
    Path((_, reference)): Path<(String, String)>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, Response> {
    let target = item_target(&state, &w.link, &reference).await?;
    let base = w.base();
    if Answer::parse(form.outcome.trim()) == Some(Answer::NotDone) {
        return Ok(answer_post(&state, &target, &format!("{base}/o/{reference}"), form).await);
    }
    let message = match record_form(&state, &target, form).await? {
        Ok(r) => pages::recorded_text(&r),
        Err(why) => (false, why),
    };
    Ok(worklist_page(&state, &w.link, &base, Some(message)).await)
}

async fn worklist_page(
    state: &HttpState,
    link: &Link,
    base: &str,
    message: Option<(bool, String)>,
) -> Response {
    let rules = state.rules().await;
    match worklist::worklist(&state.store, rules, &link.link.staff_number, state.today()).await {
        Ok(Some(w)) => Html(pages::worklist_page(&w, base, message)).into_response(),
        Ok(None) => not_found(),
        Err(e) => server_error(e),
    }
}

async fn worklist_get(State(state): State<HttpState>, w: Opened<Work>) -> Response {
    worklist_page(&state, &w.link, &w.base(), None).await
}

async fn worklist_json(
    State(state): State<HttpState>,
    w: Opened<Work>,
) -> Result<Response, Response> {
    let today = state.today();
    let rules = state.rules().await;
    let list = worklist::worklist(&state.store, rules, &w.link.link.staff_number, today)
        .await
        .map_err(server_error)?
        .ok_or_else(not_found)?;
    let items: Vec<serde_json::Value> = list
        .items
        .iter()
        .map(|i| {
            let o = &i.occasion;
            serde_json::json!({
                "person": o.person.label(),
                "name": o.person.name,
                "rule": o.rule,
                "occasion_on": o.occasion_on.to_string(),
                "due_on": o.due_on.to_string(),
                "title": o.title,
                "overdue": i.overdue,
                "paused": i.paused,
                "covering_for": i.covering_for,
                "ack_url": format!("{}{}/o/{}", w.origin, w.base(), o.reference),
            })
        })
        .collect();
    Ok(axum::Json(serde_json::json!({
        "staff": list.staff.number,
        "as_of": today.to_string(),
        "items": items,
    }))
    .into_response())
}

async fn calendar_ics(
    State(state): State<HttpState>,
    w: Opened<Work>,
) -> Result<Response, Response> {
    let rules = state.rules().await;
    let staff = &w.link.link.staff_number;
    let items = worklist::feed_items(&state.store, rules, staff, state.today())
        .await
        .map_err(server_error)?;
    let base = format!("{}{}", w.origin, w.base());
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        ics::calendar(&items, &base, state.clock.now()),
    )
        .into_response())
}

/// `scheme://host` of the request as the client reached it (for links in JSON and
/// the feed; the digest's links use `http.base_url`).
fn origin(state: &HttpState, headers: &axum::http::HeaderMap) -> String {
    if let Some(base) = &state.base_url {
        return base.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn healthz_answers_and_the_server_stops_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("h.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.set_meta("last_tick", "2026-09-18").await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let rules = Arc::new(RwLock::new(Arc::new(RuleSet::builtin(
            crate::calendar::WorkCalendar::builtin(),
        ))));
        let clock: Arc<dyn Clock> =
            Arc::new(crate::clock::FixedClock::parse("2026-09-18").unwrap());
        let state = HttpState::new(store, clock, rules, None);
        let server = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        crate::delivery::channels::install_crypto_provider();
        let body = reqwest::get(format!("http://{addr}/healthz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["last_tick"], "2026-09-18", "{v}");
        assert_eq!(v["store"], "ok", "{v}");
        assert_eq!(v["status"], "degraded", "no tick time recorded: {v}");
        assert!(v["rules"]["loaded"].as_array().unwrap().len() >= 6, "{v}");
        stop.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .expect("server stops on shutdown")
            .unwrap()
            .unwrap();
    }
}
