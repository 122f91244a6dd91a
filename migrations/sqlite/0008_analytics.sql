-- Analytics: daily rollups kept by the `analytics` outbox consumer, so the dashboard reads
-- a few hundred rows for any range instead of scanning the event log.

-- One counter per (UTC day, metric, dimension): `revenue_cents`, `sessions`,
-- `product_units` per SKU, `rec_clicked` per recommendation kind, …
CREATE TABLE analytics_daily (
    day    INTEGER NOT NULL,
    metric TEXT NOT NULL,
    dim    TEXT NOT NULL DEFAULT '',
    value  INTEGER NOT NULL,
    PRIMARY KEY (day, metric, dim)
);

-- Each visitor's current session (30 minutes of inactivity end it) and how many it had.
CREATE TABLE analytics_visitors (
    visitor_id TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    pages      INTEGER NOT NULL,
    purchased  INTEGER NOT NULL,
    sessions   INTEGER NOT NULL
);

-- Days each visitor was seen on: unique visitors of any range without counting twice.
CREATE TABLE analytics_visitor_days (
    day        INTEGER NOT NULL,
    visitor_id TEXT NOT NULL,
    PRIMARY KEY (day, visitor_id)
);
