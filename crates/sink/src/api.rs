//! The JSON/HTTP query API (axum).
//!
//! | method and path | answer |
//! | --- | --- |
//! | `GET /api/messages` | `[{id, connection, envelope, subject, size}]`, paged |
//! | `GET /api/messages/{id}` | `{id, envelope, size, raw_base64, summary}` (parsed by mail-parser) |
//! | `GET /api/messages/{id}/raw` | the exact bytes, `message/rfc822` |
//! | `DELETE /api/messages` | forgets messages and transcripts in memory; `{"deleted": n}` |
//! | `GET /api/transcripts` | transcripts with AUTH payloads and secrets redacted, paged, streamed |
//!
//! Lists are paged: `?after=N` starts after message id (or connection number) `N`, `?limit=N`
//! caps the page ([`MESSAGES_PAGE`] and [`TRANSCRIPTS_PAGE`] by default and at most). A page
//! shorter than its limit is the last. Transcripts are serialised one at a time as the client
//! reads, so a response never holds more than one in memory.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::store::Store;

/// Default and largest page of `GET /api/messages`.
pub const MESSAGES_PAGE: usize = 1000;
/// Default and largest page of `GET /api/transcripts`.
pub const TRANSCRIPTS_PAGE: usize = 100;

/// `?after=N&limit=N`.
#[derive(Debug, Default, serde::Deserialize)]
struct Page {
    after: Option<u64>,
    limit: Option<usize>,
}

impl Page {
    fn limit(&self, max: usize) -> usize {
        self.limit.unwrap_or(max).min(max)
    }
}

/// The API's routes over `store`.
pub fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route("/api/messages", get(list).delete(clear))
        .route("/api/messages/{id}", get(detail))
        .route("/api/messages/{id}/raw", get(raw))
        .route("/api/transcripts", get(transcripts))
        .with_state(store)
}

async fn list(
    State(store): State<Arc<Store>>,
    Query(page): Query<Page>,
) -> Json<serde_json::Value> {
    let entries = store.list_page(page.after.unwrap_or(0), page.limit(MESSAGES_PAGE));
    Json(serde_json::Value::Array(entries))
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

async fn transcripts(State(store): State<Arc<Store>>, Query(page): Query<Page>) -> Response {
    struct Cursor {
        store: Arc<Store>,
        after: u64,
        left: usize,
        first: bool,
        done: bool,
    }
    let cursor = Cursor {
        store,
        after: page.after.unwrap_or(0),
        left: page.limit(TRANSCRIPTS_PAGE),
        first: true,
        done: false,
    };
    // `[`, then each transcript serialised when the client is ready for it, then `]`.
    let body = futures_util::stream::unfold(cursor, |mut c| async move {
        if c.done {
            return None;
        }
        let next = if c.left > 0 {
            c.store.transcript_after(c.after)
        } else {
            None
        };
        let mut chunk = Vec::new();
        if c.first {
            chunk.push(b'[');
        }
        match next {
            Some(t) => {
                if !c.first {
                    chunk.push(b',');
                }
                c.after = t.connection;
                c.left -= 1;
                if serde_json::to_writer(&mut chunk, &t).is_err() {
                    chunk.extend_from_slice(b"null");
                }
            }
            None => {
                chunk.push(b']');
                c.done = true;
            }
        }
        c.first = false;
        Some((Ok::<_, std::convert::Infallible>(Bytes::from(chunk)), c))
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response()
}
