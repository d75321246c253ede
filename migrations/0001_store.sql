-- Portable between SQLite and PostgreSQL: text keys, BIGINT milliseconds since the epoch.

-- Webhook deliveries: the primary key makes a replayed or duplicated delivery (another replica,
-- a restart) claim nothing. The payload is kept until the delivery is done, so a restart resumes
-- what was accepted.
CREATE TABLE IF NOT EXISTS deliveries (
    source TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    payload TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (source, delivery_id)
);

-- The one comment storylens keeps on each tracker item.
CREATE TABLE IF NOT EXISTS comments (
    source TEXT NOT NULL,
    item_key TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (source, item_key)
);

-- A team's verdicts on suggestions.
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    item_id TEXT,
    item_text TEXT NOT NULL,
    suggested_label TEXT,
    suggested_disposition TEXT,
    suggested_story TEXT,
    verdict TEXT NOT NULL,
    corrected_label TEXT,
    corrected_text TEXT,
    created_ms BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS feedback_by_project ON feedback (project, created_ms);
