//! What storylens must not forget: webhook deliveries (so a replay, a restart or a second
//! replica never comments twice), the comment kept on each tracker item, and a team's feedback
//! on suggestions. SQLite by default (`--db`), PostgreSQL by URL (`--database-url`); one query
//! layer (sqlx `Any`) and migrations embedded in the binary.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

/// The store. Cheap to clone (a connection pool).
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
}

fn db(e: impl std::fmt::Display) -> crate::Error {
    crate::Error::Internal(format!("store: {e}"))
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A verdict on a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Accept,
    Reject,
    Edit,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Reject => "reject",
            Verdict::Edit => "edit",
        }
    }
}

/// One feedback record, as posted to `/v1/feedback`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Feedback {
    /// The team's project key; figures are never mixed across projects.
    pub project: String,
    /// The item's id in the tracker, when it has one.
    #[serde(default)]
    pub item_id: Option<String>,
    /// The item's text as it was judged.
    pub item_text: String,
    /// What storylens suggested.
    #[serde(default)]
    pub suggested_label: Option<String>,
    #[serde(default)]
    pub suggested_disposition: Option<String>,
    #[serde(default)]
    pub suggested_story: Option<String>,
    pub verdict: Verdict,
    /// The label the team says is right, when it differs.
    #[serde(default)]
    pub corrected_label: Option<String>,
    /// The team's edited text, for `edit`.
    #[serde(default)]
    pub corrected_text: Option<String>,
}

/// Acceptance of one group of suggestions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Acceptance {
    /// The disposition, label or week (`YYYY-Www` of the record's time, UTC).
    pub key: String,
    pub total: i64,
    pub accepted: i64,
    pub edited: i64,
    pub rejected: i64,
    /// (accepted + edited) / total.
    pub rate: f64,
}

/// `GET /v1/feedback/stats` for one project.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedbackStats {
    pub project: String,
    pub total: i64,
    pub by_disposition: Vec<Acceptance>,
    pub by_label: Vec<Acceptance>,
    pub by_week: Vec<Acceptance>,
}

impl Store {
    /// Opens the store at a URL (`sqlite://path`, `postgres://…`), creating a SQLite file when
    /// needed, and applies the embedded migrations.
    pub async fn open(url: &str) -> crate::Result<Self> {
        sqlx::any::install_default_drivers();
        let url = if url.starts_with("sqlite:") && !url.contains('?') {
            format!("{url}?mode=rwc")
        } else {
            url.to_string()
        };
        // SQLite serialises writers; one connection keeps it from answering "database is locked".
        let max = if url.starts_with("sqlite:") { 1 } else { 8 };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .connect(&url)
            .await
            .map_err(|e| crate::Error::InvalidInput(format!("cannot open the store: {e}")))?;
        if url.starts_with("sqlite:") {
            // Durable on return: an acknowledged record survives a kill.
            for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL"] {
                sqlx::query(pragma).execute(&pool).await.map_err(db)?;
            }
        }
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(db)?;
        Ok(Self { pool })
    }

    /// A SQLite file store.
    pub async fn open_sqlite(path: &Path) -> crate::Result<Self> {
        Self::open(&format!("sqlite://{}", path.display())).await
    }

    /// Claims a delivery: true the first time `(source, id)` is seen anywhere sharing this
    /// store, false for a replay. The payload is kept until [`Store::finish_delivery`].
    pub async fn claim_delivery(
        &self,
        source: &str,
        id: &str,
        payload: &str,
    ) -> crate::Result<bool> {
        let done = sqlx::query(
            "INSERT INTO deliveries (source, delivery_id, received_ms, status, payload, attempts) \
             VALUES ($1, $2, $3, 'pending', $4, 0) ON CONFLICT DO NOTHING",
        )
        .bind(source)
        .bind(id)
        .bind(now_ms())
        .bind(payload)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a delivery done (`posted`, `ignored`, `failed`) and drops its payload.
    pub async fn finish_delivery(
        &self,
        source: &str,
        id: &str,
        status: &str,
        attempts: u32,
    ) -> crate::Result<()> {
        sqlx::query(
            "UPDATE deliveries SET status = $1, payload = NULL, attempts = $2 \
             WHERE source = $3 AND delivery_id = $4",
        )
        .bind(status)
        .bind(i64::from(attempts))
        .bind(source)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    /// Deliveries accepted but not finished (a restart resumes them): `(id, payload)`.
    pub async fn pending_deliveries(&self, source: &str) -> crate::Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT delivery_id, payload FROM deliveries \
             WHERE source = $1 AND status = 'pending' AND payload IS NOT NULL ORDER BY received_ms",
        )
        .bind(source)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?)))
            .collect()
    }

    /// The comment storylens keeps on an item, if it posted one.
    pub async fn comment_id(&self, source: &str, item: &str) -> crate::Result<Option<String>> {
        let row =
            sqlx::query("SELECT comment_id FROM comments WHERE source = $1 AND item_key = $2")
                .bind(source)
                .bind(item)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        row.map(|r| r.try_get(0).map_err(db)).transpose()
    }

    /// Remembers the comment kept on an item.
    pub async fn set_comment_id(
        &self,
        source: &str,
        item: &str,
        comment: &str,
    ) -> crate::Result<()> {
        sqlx::query(
            "INSERT INTO comments (source, item_key, comment_id, updated_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (source, item_key) DO UPDATE SET comment_id = excluded.comment_id, \
             updated_ms = excluded.updated_ms",
        )
        .bind(source)
        .bind(item)
        .bind(comment)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    /// Stores a feedback record; returns its id once it is durable.
    pub async fn add_feedback(&self, f: &Feedback) -> crate::Result<String> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let created = now_ms();
        let seq = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Unique across replicas: time, process and a counter.
        let id = format!("fb-{created:x}-{:x}-{seq:x}", std::process::id());
        sqlx::query(
            "INSERT INTO feedback (id, project, item_id, item_text, suggested_label, \
             suggested_disposition, suggested_story, verdict, corrected_label, corrected_text, \
             created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(&f.project)
        .bind(f.item_id.as_deref())
        .bind(&f.item_text)
        .bind(f.suggested_label.as_deref())
        .bind(f.suggested_disposition.as_deref())
        .bind(f.suggested_story.as_deref())
        .bind(f.verdict.as_str())
        .bind(f.corrected_label.as_deref())
        .bind(f.corrected_text.as_deref())
        .bind(created)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(id)
    }

    /// Every feedback record of a project (all projects when `None`), oldest first, with its
    /// time in milliseconds.
    pub async fn feedback(&self, project: Option<&str>) -> crate::Result<Vec<(Feedback, i64)>> {
        const COLUMNS: &str = "SELECT project, item_id, item_text, suggested_label, \
            suggested_disposition, suggested_story, verdict, corrected_label, corrected_text, \
            created_ms FROM feedback";
        // Two statements rather than `$1 IS NULL`, whose type PostgreSQL cannot infer.
        let rows = match project {
            Some(p) => {
                sqlx::query(&format!(
                    "{COLUMNS} WHERE project = $1 ORDER BY created_ms, id"
                ))
                .bind(p)
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query(&format!("{COLUMNS} ORDER BY created_ms, id"))
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(db)?;
        rows.iter().map(feedback_row).collect()
    }

    /// Acceptance per disposition, label and week, for one project.
    pub async fn stats(&self, project: &str) -> crate::Result<FeedbackStats> {
        let records = self.feedback(Some(project)).await?;
        let group = |key: &dyn Fn(&Feedback, i64) -> Option<String>| {
            let mut groups: std::collections::BTreeMap<String, Acceptance> = Default::default();
            for (f, at) in &records {
                let Some(k) = key(f, *at) else { continue };
                let g = groups.entry(k.clone()).or_insert(Acceptance {
                    key: k,
                    total: 0,
                    accepted: 0,
                    edited: 0,
                    rejected: 0,
                    rate: 0.0,
                });
                g.total += 1;
                match f.verdict {
                    Verdict::Accept => g.accepted += 1,
                    Verdict::Edit => g.edited += 1,
                    Verdict::Reject => g.rejected += 1,
                }
            }
            groups
                .into_values()
                .map(|mut g| {
                    g.rate = (g.accepted + g.edited) as f64 / g.total.max(1) as f64;
                    g
                })
                .collect::<Vec<_>>()
        };
        Ok(FeedbackStats {
            project: project.to_string(),
            total: records.len() as i64,
            by_disposition: group(&|f, _| f.suggested_disposition.clone()),
            by_label: group(&|f, _| f.suggested_label.clone()),
            by_week: group(&|_, at| Some(iso_week(at))),
        })
    }
}

fn feedback_row(r: &AnyRow) -> crate::Result<(Feedback, i64)> {
    let s = |i: usize| r.try_get::<Option<String>, _>(i).map_err(db);
    let verdict = match s(6)?.as_deref() {
        Some("accept") => Verdict::Accept,
        Some("edit") => Verdict::Edit,
        _ => Verdict::Reject,
    };
    Ok((
        Feedback {
            project: s(0)?.unwrap_or_default(),
            item_id: s(1)?,
            item_text: s(2)?.unwrap_or_default(),
            suggested_label: s(3)?,
            suggested_disposition: s(4)?,
            suggested_story: s(5)?,
            verdict,
            corrected_label: s(7)?,
            corrected_text: s(8)?,
        },
        r.try_get::<i64, _>(9).map_err(db)?,
    ))
}

/// `YYYY-Www`, the ISO week of a time in milliseconds (UTC).
pub fn iso_week(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    // 1970-01-01 was a Thursday: ISO weekday 4.
    let weekday = (days + 3).rem_euclid(7); // 0 = Monday
    let thursday = days - weekday + 3;
    let (year, ordinal) = civil_year_and_ordinal(thursday);
    format!("{year}-W{:02}", ordinal / 7 + 1)
}

/// The year and 0-based day of the year of a day count since 1970-01-01.
fn civil_year_and_ordinal(days: i64) -> (i64, i64) {
    let mut year = 1970;
    let mut d = days;
    let len = |y: i64| {
        if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
            366
        } else {
            365
        }
    };
    while d < 0 {
        year -= 1;
        d += len(year);
    }
    while d >= len(year) {
        d -= len(year);
        year += 1;
    }
    (year, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks() {
        // 2026-12-02 (a Wednesday) is in week 49; 2021-01-01 belongs to 2020's week 53.
        assert_eq!(iso_week(1_796_169_600_000), "2026-W49");
        assert_eq!(iso_week(1_609_459_200_000), "2020-W53");
        assert_eq!(iso_week(0), "1970-W01");
    }

    #[tokio::test]
    async fn deliveries_are_claimed_once_and_feedback_is_kept_per_project() {
        let dir = std::env::temp_dir().join(format!("storylens-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("store.db");
        let store = Store::open_sqlite(&path).await.unwrap();
        assert!(store.claim_delivery("github", "d1", "{}").await.unwrap());
        assert!(!store.claim_delivery("github", "d1", "{}").await.unwrap());
        assert_eq!(store.pending_deliveries("github").await.unwrap().len(), 1);
        store
            .finish_delivery("github", "d1", "posted", 1)
            .await
            .unwrap();
        assert!(store.pending_deliveries("github").await.unwrap().is_empty());
        store.set_comment_id("github", "o/r#1", "11").await.unwrap();
        store.set_comment_id("github", "o/r#1", "12").await.unwrap();
        assert_eq!(
            store
                .comment_id("github", "o/r#1")
                .await
                .unwrap()
                .as_deref(),
            Some("12")
        );
        let f = |project: &str, verdict| Feedback {
            project: project.into(),
            item_id: None,
            item_text: "Upgrade the build".into(),
            suggested_label: Some("task".into()),
            suggested_disposition: Some("keep-task".into()),
            suggested_story: None,
            verdict,
            corrected_label: None,
            corrected_text: None,
        };
        store.add_feedback(&f("A", Verdict::Accept)).await.unwrap();
        store.add_feedback(&f("A", Verdict::Reject)).await.unwrap();
        store.add_feedback(&f("B", Verdict::Edit)).await.unwrap();
        drop(store);
        // Reopened: everything acknowledged is still there, and projects stay apart.
        let store = Store::open_sqlite(&path).await.unwrap();
        let a = store.stats("A").await.unwrap();
        assert_eq!(a.total, 2);
        assert_eq!(a.by_disposition[0].key, "keep-task");
        assert!((a.by_disposition[0].rate - 0.5).abs() < 1e-9);
        assert_eq!(store.stats("B").await.unwrap().total, 1);
        assert!(store.claim_delivery("github", "d2", "{}").await.unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
