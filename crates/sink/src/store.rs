//! Where accepted messages and finished transcripts go: memory, and optionally a directory.
//!
//! With a directory, a message is acknowledged only once `<id>.eml` and `<id>.json` are durably
//! written ([`crate::durable`]); a failure leaves neither file and the client gets `451`. On
//! start the directory is read back: earlier messages are served again, and message ids and
//! connection numbers continue after the highest ones found.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use at_wire::redact::Secrets;

use crate::durable;
use crate::message::{Envelope, StoredMessage};
use crate::transcript::Transcript;

/// Called once per accepted message (the CLI prints its summary line).
pub type MessageCallback = Arc<dyn Fn(&StoredMessage) + Send + Sync>;

/// Called with each error writing to the store directory (the CLI prints it on stderr).
pub type ErrorCallback = Arc<dyn Fn(&str) + Send + Sync>;

/// Messages and transcripts of one sink. Cheap to share (`Arc<Store>`).
pub struct Store {
    inner: Mutex<Inner>,
    changed: Condvar,
    dir: Option<PathBuf>,
    max_transcripts: usize,
    on_message: Option<MessageCallback>,
    on_error: Option<ErrorCallback>,
    secrets: Secrets,
    next_id: u64,
    next_connection: u64,
    reloaded: usize,
}

#[derive(Default)]
struct Inner {
    messages: Vec<StoredMessage>,
    /// Sorted by connection number.
    transcripts: VecDeque<Transcript>,
    /// Memory the held transcripts cost ([`Transcript::memory_cost`]).
    transcript_bytes: usize,
    write_errors: VecDeque<String>,
}

/// Memory of transcripts kept across connections, overhead included (the files keep
/// everything).
pub const TRANSCRIPT_BUDGET: usize = 64 * 1024 * 1024;

/// Write errors remembered for [`Store::write_errors`] (the oldest are forgotten).
const KEPT_ERRORS: usize = 100;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .field("messages", &self.lock().messages.len())
            .finish_non_exhaustive()
    }
}

/// What a store directory held when the sink started.
struct Reloaded {
    messages: Vec<StoredMessage>,
    next_id: u64,
    next_connection: u64,
    problems: Vec<String>,
}

fn number_of(name: &str, suffix: &str) -> Option<u64> {
    name.strip_suffix(suffix)?.parse().ok()
}

/// Reads `<id>.json` + `<id>.eml` pairs and the transcript numbers of `dir`.
fn reload(dir: &Path) -> std::io::Result<Reloaded> {
    #[derive(serde::Deserialize)]
    struct Meta {
        id: u64,
        connection: u64,
        received_at_ms: u64,
        envelope: Envelope,
        size: usize,
    }
    let mut out = Reloaded {
        messages: Vec::new(),
        next_id: 1,
        next_connection: 1,
        problems: Vec::new(),
    };
    let mut max_id = 0;
    let mut max_conn = 0;
    let mut orphans = Vec::new();
    for e in std::fs::read_dir(dir)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(n) = number_of(&name, ".eml") {
            max_id = max_id.max(n);
            if !dir.join(format!("{n}.json")).exists() {
                orphans.push(n);
            }
        }
        let Some(n) = number_of(&name, ".json") else {
            continue;
        };
        max_id = max_id.max(n);
        let meta: Meta = match std::fs::read(e.path())
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(m) => m,
            Err(why) => {
                out.problems.push(format!("{name}: {why}"));
                continue;
            }
        };
        max_conn = max_conn.max(meta.connection);
        match std::fs::read(dir.join(format!("{n}.eml"))) {
            Ok(raw) if raw.len() == meta.size && meta.id == n => out.messages.push(StoredMessage {
                id: meta.id,
                connection: meta.connection,
                received_at: Duration::from_millis(meta.received_at_ms),
                envelope: meta.envelope,
                raw,
            }),
            Ok(raw) => out.problems.push(format!(
                "{n}.eml: {} bytes where {name} says {} (not served)",
                raw.len(),
                meta.size
            )),
            Err(e) => out.problems.push(format!("{n}.eml: {e} (not served)")),
        }
    }
    if let Ok(rd) = std::fs::read_dir(dir.join("transcripts")) {
        for e in rd.flatten() {
            if let Some(n) = number_of(&e.file_name().to_string_lossy(), ".txt") {
                max_conn = max_conn.max(n);
            }
        }
    }
    // An .eml without its .json was cut short by a crash before its 250: never acknowledged,
    // so the client still has the message. Its id stays used.
    for n in orphans {
        let path = dir.join(format!("{n}.eml"));
        match durable::remove_file(&path) {
            Ok(()) => out.problems.push(format!(
                "{n}.eml removed: incomplete (no {n}.json), it was never acknowledged"
            )),
            Err(e) => out
                .problems
                .push(format!("{n}.eml: incomplete and not removable: {e}")),
        }
    }
    out.messages.sort_by_key(|m| m.id);
    out.next_id = max_id.saturating_add(1);
    out.next_connection = max_conn.saturating_add(1);
    Ok(out)
}

impl Store {
    /// A store; with `dir`, each message is also written as `<id>.eml` plus `<id>.json`
    /// (envelope) and each transcript as `transcripts/<connection>.txt` (redacted), and what
    /// the directory already holds is loaded. Transcripts are redacted of `secrets` too.
    pub(crate) fn new(
        dir: Option<PathBuf>,
        max_transcripts: usize,
        on_message: Option<MessageCallback>,
        on_error: Option<ErrorCallback>,
        secrets: Secrets,
    ) -> std::io::Result<Store> {
        let mut inner = Inner::default();
        let (mut next_id, mut next_connection, mut reloaded) = (1, 1, 0);
        if let Some(d) = &dir {
            std::fs::create_dir_all(d.join("transcripts"))?;
            durable::remove_stale_temps(d);
            durable::remove_stale_temps(&d.join("transcripts"));
            let r = reload(d)?;
            for p in &r.problems {
                if let Some(cb) = &on_error {
                    cb(&format!("store {}: {p}", d.display()));
                }
            }
            reloaded = r.messages.len();
            inner.messages = r.messages;
            next_id = r.next_id;
            next_connection = r.next_connection;
        }
        Ok(Store {
            inner: Mutex::new(inner),
            changed: Condvar::new(),
            dir,
            max_transcripts,
            on_message,
            on_error,
            secrets,
            next_id,
            next_connection,
            reloaded,
        })
    }

    /// The first message id not used in the store directory (1 without one).
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id
    }

    /// The first connection number not used in the store directory (1 without one).
    pub(crate) fn next_connection(&self) -> u64 {
        self.next_connection
    }

    /// How many messages were loaded from the store directory at start.
    pub fn reloaded(&self) -> usize {
        self.reloaded
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn error(&self, text: String) {
        if let Some(cb) = &self.on_error {
            cb(&text);
        }
        let mut g = self.lock();
        if g.write_errors.len() >= KEPT_ERRORS {
            g.write_errors.pop_front();
        }
        g.write_errors.push_back(text);
    }

    /// Stores an accepted message: with a directory, durably, before returning. On error
    /// nothing of it is left (on disk or in memory) and the caller answers `451`.
    pub(crate) fn insert(&self, msg: StoredMessage) -> std::io::Result<()> {
        if let Some(dir) = &self.dir {
            let meta = serde_json::json!({
                "id": msg.id,
                "connection": msg.connection,
                "received_at_ms": msg.received_at.as_millis() as u64,
                "envelope": msg.envelope,
                "size": msg.raw.len(),
            });
            let eml = dir.join(format!("{}.eml", msg.id));
            let json = dir.join(format!("{}.json", msg.id));
            // The .json is written last: it is what says a message is complete.
            let written = serde_json::to_vec_pretty(&meta)
                .map_err(std::io::Error::other)
                .and_then(|meta| {
                    durable::write_file_no_dir_sync(&eml, &msg.raw)?;
                    durable::write_file_no_dir_sync(&json, &meta)?;
                    durable::sync_dir(dir)
                });
            if let Err(e) = written {
                let _ = std::fs::remove_file(&json);
                let _ = std::fs::remove_file(&eml);
                let _ = durable::sync_dir(dir);
                self.error(format!(
                    "message {} from connection {} not stored (answered 451): {e}",
                    msg.id, msg.connection
                ));
                return Err(e);
            }
        }
        if let Some(cb) = &self.on_message {
            cb(&msg);
        }
        let mut g = self.lock();
        // Ids are allocated in order but sessions store concurrently: keep the list sorted.
        let at = g.messages.partition_point(|m| m.id < msg.id);
        g.messages.insert(at, msg);
        drop(g);
        self.changed.notify_all();
        Ok(())
    }

    pub(crate) fn push_transcript(&self, mut t: Transcript) {
        t.redact_secrets(&self.secrets);
        if let Some(dir) = &self.dir {
            let path = dir
                .join("transcripts")
                .join(format!("{}.txt", t.connection));
            if let Err(e) = durable::write_file(&path, t.render().as_bytes()) {
                self.error(format!("transcript {}: {e}", t.connection));
            }
        }
        let cost = t.memory_cost();
        let mut g = self.lock();
        g.transcript_bytes += cost;
        let at = g
            .transcripts
            .iter()
            .rposition(|x| x.connection <= t.connection)
            .map_or(0, |i| i + 1);
        g.transcripts.insert(at, t);
        // Bounded memory: at most `max_transcripts` and TRANSCRIPT_BUDGET bytes, the lowest
        // connection numbers dropped first.
        while g.transcripts.len() > self.max_transcripts
            || (g.transcript_bytes > TRANSCRIPT_BUDGET && g.transcripts.len() > 1)
        {
            if let Some(old) = g.transcripts.pop_front() {
                g.transcript_bytes = g.transcript_bytes.saturating_sub(old.memory_cost());
            }
        }
        if g.transcripts.is_empty() {
            g.transcript_bytes = 0;
        }
        g.transcripts.shrink_to(self.max_transcripts.min(1024));
        drop(g);
        self.changed.notify_all();
    }

    /// All accepted messages, oldest first.
    pub fn messages(&self) -> Vec<StoredMessage> {
        self.lock().messages.clone()
    }

    /// The message with this id.
    pub fn message(&self, id: u64) -> Option<StoredMessage> {
        let g = self.lock();
        let i = g.messages.binary_search_by_key(&id, |m| m.id).ok()?;
        g.messages.get(i).cloned()
    }

    /// List entries ([`StoredMessage::list_entry`]) of at most `limit` messages with an id
    /// above `after`, in id order.
    pub fn list_page(&self, after: u64, limit: usize) -> Vec<serde_json::Value> {
        let g = self.lock();
        let start = g.messages.partition_point(|m| m.id <= after);
        g.messages
            .iter()
            .skip(start)
            .take(limit)
            .map(StoredMessage::list_entry)
            .collect()
    }

    /// Transcripts of finished connections, by connection number (the most recent ones, within
    /// `max_transcripts` and 64 MiB of memory).
    pub fn transcripts(&self) -> Vec<Transcript> {
        self.lock().transcripts.iter().cloned().collect()
    }

    /// The held transcript with the lowest connection number above `after`.
    pub fn transcript_after(&self, after: u64) -> Option<Transcript> {
        let g = self.lock();
        let i = g.transcripts.partition_point(|t| t.connection <= after);
        g.transcripts.get(i).cloned()
    }

    /// Memory the held transcripts cost (at most 64 MiB past the last one pushed).
    pub fn transcript_memory(&self) -> usize {
        self.lock().transcript_bytes
    }

    /// The most recent errors writing to the store directory (up to 100).
    pub fn write_errors(&self) -> Vec<String> {
        self.lock().write_errors.iter().cloned().collect()
    }

    /// Forgets all messages and transcripts held in memory (files stay).
    pub fn clear(&self) {
        let mut g = self.lock();
        g.messages.clear();
        g.messages.shrink_to_fit();
        g.transcripts.clear();
        g.transcripts.shrink_to_fit();
        g.transcript_bytes = 0;
    }

    /// Blocks until at least `n` messages are held or `timeout` passes; returns the messages.
    pub fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<StoredMessage> {
        let g = self.lock();
        let (g, _) = self
            .changed
            .wait_timeout_while(g, timeout, |i| i.messages.len() < n)
            .unwrap_or_else(|e| e.into_inner());
        g.messages.clone()
    }

    /// Blocks until at least `n` transcripts are held or `timeout` passes; returns them.
    pub fn wait_for_transcripts(&self, n: usize, timeout: Duration) -> Vec<Transcript> {
        let g = self.lock();
        let (g, _) = self
            .changed
            .wait_timeout_while(g, timeout, |i| i.transcripts.len() < n)
            .unwrap_or_else(|e| e.into_inner());
        g.transcripts.iter().cloned().collect()
    }
}
