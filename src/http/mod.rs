//! The HTTP server: the axum router and [`serve`], which takes a bound listener and
//! a shutdown future from its caller (the daemon binds `http.listen`; tests bind
//! port 0), so no port is guessed and the server stops gracefully. Handlers call
//! `service`; none holds business logic or SQL.
//!
//! Routes: `GET /healthz` (200 `ok last_tick=YYYY-MM-DD`, or 503 when the store
//! cannot be read).

use std::future::Future;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::service::plan;
use crate::store::Store;

/// What the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct HttpState {
    pub store: Store,
}

/// The routes.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in
/// flight finish.
pub async fn serve(
    listener: TcpListener,
    state: HttpState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn healthz(State(state): State<HttpState>) -> (StatusCode, String) {
    match plan::last_tick(&state.store).await {
        Ok(t) => (
            StatusCode::OK,
            format!("ok last_tick={}", t.unwrap_or_default()),
        ),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}")),
    }
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
        let server = tokio::spawn(serve(listener, HttpState { store }, async {
            let _ = stopped.await;
        }));
        crate::delivery::channels::install_crypto_provider();
        let body = reqwest::get(format!("http://{addr}/healthz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "ok last_tick=2026-09-18");
        stop.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .expect("server stops on shutdown")
            .unwrap()
            .unwrap();
    }
}
