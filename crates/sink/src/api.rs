//! The JSON/HTTP query API (axum).
//!
//! | method and path | answer |
//! | --- | --- |
//! | `GET /api/messages` | `[{id, connection, envelope, subject, size}]` |
//! | `GET /api/messages/{id}` | `{id, envelope, size, raw_base64, summary}` (parsed by mail-parser) |
//! | `GET /api/messages/{id}/raw` | the exact bytes, `message/rfc822` |
//! | `DELETE /api/messages` | forgets messages and transcripts in memory; `{"deleted": n}` |
//! | `GET /api/transcripts` | transcripts with AUTH payloads redacted |

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::store::Store;

/// The API's routes over `store`.
pub fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route("/api/messages", get(list).delete(clear))
        .route("/api/messages/{id}", get(detail))
        .route("/api/messages/{id}/raw", get(raw))
        .route("/api/transcripts", get(transcripts))
        .with_state(store)
}

async fn list(State(store): State<Arc<Store>>) -> Json<Vec<serde_json::Value>> {
    Json(store.messages().iter().map(|m| m.list_entry()).collect())
}

fn not_found(id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"error": format!("no message with id {id}")})),
    )
        .into_response()
}

async fn detail(State(store): State<Arc<Store>>, Path(id): Path<String>) -> Response {
    match id.parse().ok().and_then(|n| store.message(n)) {
        Some(m) => Json(m.detail()).into_response(),
        None => not_found(&id),
    }
}

async fn raw(State(store): State<Arc<Store>>, Path(id): Path<String>) -> Response {
    match id.parse().ok().and_then(|n| store.message(n)) {
        Some(m) => ([(header::CONTENT_TYPE, "message/rfc822")], m.raw).into_response(),
        None => not_found(&id),
    }
}

async fn clear(State(store): State<Arc<Store>>) -> Json<serde_json::Value> {
    let n = store.messages().len();
    store.clear();
    Json(serde_json::json!({"deleted": n}))
}

async fn transcripts(State(store): State<Arc<Store>>) -> Json<serde_json::Value> {
    Json(serde_json::to_value(store.transcripts()).unwrap_or_default())
}
