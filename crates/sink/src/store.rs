//! Where accepted messages and finished transcripts go: memory, and optionally a directory.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::message::StoredMessage;
use crate::transcript::Transcript;

/// Called once per accepted message (the CLI prints its summary line).
pub type MessageCallback = Arc<dyn Fn(&StoredMessage) + Send + Sync>;

/// Messages and transcripts of one sink. Cheap to share (`Arc<Store>`).
pub struct Store {
    inner: Mutex<Inner>,
    changed: Condvar,
    dir: Option<PathBuf>,
    max_transcripts: usize,
    on_message: Option<MessageCallback>,
}

#[derive(Default)]
struct Inner {
    messages: Vec<StoredMessage>,
    transcripts: VecDeque<Transcript>,
    transcript_bytes: usize,
    write_errors: Vec<String>,
}

/// Bytes of transcripts kept in memory across connections (the files keep everything).
const TRANSCRIPT_BUDGET: usize = 64 * 1024 * 1024;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .field("messages", &self.lock().messages.len())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A store; with `dir`, each message is also written as `<id>.eml` plus `<id>.json`
    /// (envelope) and each transcript as `transcripts/<connection>.txt` (redacted).
    pub(crate) fn new(
        dir: Option<PathBuf>,
        max_transcripts: usize,
        on_message: Option<MessageCallback>,
    ) -> std::io::Result<Store> {
        if let Some(d) = &dir {
            std::fs::create_dir_all(d.join("transcripts"))?;
        }
        Ok(Store {
            inner: Mutex::new(Inner::default()),
            changed: Condvar::new(),
            dir,
            max_transcripts,
            on_message,
        })
    }

    /// The first number not used by a `<n><suffix>` file already in `dir`.
    pub(crate) fn first_free_id(dir: Option<&Path>, suffix: &str) -> u64 {
        let Some(dir) = dir else { return 1 };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 1;
        };
        entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_suffix(suffix)?.parse::<u64>().ok()
            })
            .max()
            .map_or(1, |m| m + 1)
    }

    /// The first connection number not used by a `transcripts/<n>.txt` file in `dir`.
    pub(crate) fn first_free_connection(dir: Option<&Path>) -> u64 {
        Store::first_free_id(dir.map(|d| d.join("transcripts")).as_deref(), ".txt")
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn insert(&self, msg: StoredMessage) {
        if let Some(dir) = &self.dir {
            let meta = serde_json::json!({
                "id": msg.id,
                "connection": msg.connection,
                "received_at_ms": msg.received_at.as_millis() as u64,
                "envelope": msg.envelope,
                "size": msg.raw.len(),
            });
            let eml = std::fs::write(dir.join(format!("{}.eml", msg.id)), &msg.raw);
            let json = std::fs::write(
                dir.join(format!("{}.json", msg.id)),
                serde_json::to_vec_pretty(&meta).unwrap_or_default(),
            );
            if let Err(e) = eml.and(json) {
                self.lock()
                    .write_errors
                    .push(format!("message {}: {e}", msg.id));
            }
        }
        if let Some(cb) = &self.on_message {
            cb(&msg);
        }
        self.lock().messages.push(msg);
        self.changed.notify_all();
    }

    pub(crate) fn push_transcript(&self, t: Transcript) {
        if let Some(dir) = &self.dir {
            let path = dir
                .join("transcripts")
                .join(format!("{}.txt", t.connection));
            if let Err(e) = std::fs::write(path, t.render()) {
                self.lock()
                    .write_errors
                    .push(format!("transcript {}: {e}", t.connection));
            }
        }
        let mut g = self.lock();
        g.transcript_bytes += t.kept_bytes();
        g.transcripts.push_back(t);
        // Bounded memory: at most `max_transcripts` and TRANSCRIPT_BUDGET bytes, oldest dropped.
        while g.transcripts.len() > self.max_transcripts
            || (g.transcript_bytes > TRANSCRIPT_BUDGET && g.transcripts.len() > 1)
        {
            if let Some(old) = g.transcripts.pop_front() {
                g.transcript_bytes -= old.kept_bytes();
            }
        }
        drop(g);
        self.changed.notify_all();
    }

    /// All accepted messages, oldest first.
    pub fn messages(&self) -> Vec<StoredMessage> {
        self.lock().messages.clone()
    }

    /// The message with this id.
    pub fn message(&self, id: u64) -> Option<StoredMessage> {
        self.lock().messages.iter().find(|m| m.id == id).cloned()
    }

    /// Transcripts of finished connections, oldest first (the most recent ones, within
    /// `max_transcripts` and 64 MiB).
    pub fn transcripts(&self) -> Vec<Transcript> {
        self.lock().transcripts.iter().cloned().collect()
    }

    /// Errors writing to the store directory, if any.
    pub fn write_errors(&self) -> Vec<String> {
        self.lock().write_errors.clone()
    }

    /// Forgets all messages and transcripts held in memory (files stay).
    pub fn clear(&self) {
        let mut g = self.lock();
        g.messages.clear();
        g.transcripts.clear();
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
