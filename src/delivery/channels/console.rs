//! Console / file sink: one JSON line per [`Outgoing`], for trials, `preview`-like
//! dry runs and bureaus that pick messages up from a file.
//!
//! Line format: `{"channel":"console","idempotency_key","kind","subject",
//! "sections":[{"staff_no","name","lines":[…]}]}`. Phone numbers never appear
//! unmasked: addressees' mobiles are left out and 11-digit mobile-like numbers inside
//! lines are masked.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use super::{Channel, ConsoleConfig, Outgoing, Receipt, SendError};
use crate::mask;

pub struct ConsoleChannel {
    cfg: ConsoleConfig,
    /// Serialises writers so lines never interleave.
    lock: Arc<Mutex<()>>,
}

impl ConsoleChannel {
    pub fn new(cfg: ConsoleConfig) -> Self {
        ConsoleChannel {
            cfg,
            lock: Arc::new(Mutex::new(())),
        }
    }
}

/// The JSON line (without the newline) written for `msg`.
pub fn line(msg: &Outgoing) -> String {
    let mut v = msg.to_json(|s| {
        json!({
            "staff_no": s.addressee.staff_no,
            "name": s.addressee.name,
            "lines": s.lines.iter().map(|l| mask::text(l)).collect::<Vec<_>>(),
            "items": s.items,
            "worklist_url": s.worklist_url,
        })
    });
    v["channel"] = json!("console");
    v["subject"] = json!(mask::text(&msg.subject));
    v.to_string()
}

#[async_trait]
impl Channel for ConsoleChannel {
    fn name(&self) -> &str {
        "console"
    }
    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        let mut text = line(msg);
        text.push('\n');
        let path = self.cfg.path.clone().filter(|p| p != "-");
        let lock = self.lock.clone();
        let write = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
            match &path {
                Some(p) => {
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(p)?;
                    f.write_all(text.as_bytes())?;
                    f.flush()
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(text.as_bytes())?;
                    out.flush()
                }
            }
        });
        let where_ = self.cfg.path.as_deref().unwrap_or("-").to_string();
        match tokio::time::timeout(Duration::from_secs(self.cfg.timeout_secs), write).await {
            Err(_) => Err(SendError::transient(format!(
                "console: writing to {where_} timed out"
            ))),
            Ok(Err(e)) => Err(SendError::transient(format!("console: writer failed: {e}"))),
            Ok(Ok(Err(e))) => {
                let reason =
                    format!("console: cannot append to {where_} (channels.console.path): {e}");
                match e.kind() {
                    std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::PermissionDenied
                    | std::io::ErrorKind::IsADirectory => Err(SendError::permanent(reason)),
                    _ => Err(SendError::transient(reason)),
                }
            }
            Ok(Ok(Ok(()))) => Ok(Receipt { provider_id: None }),
        }
    }
}
