-- Loyalty: an append-only points ledger with per-account balances kept in step with it,
-- leaderboard totals per period, badges and challenges. Points are integers.

-- The balances the ledger sums to, updated in the transaction that appends to the ledger;
-- the CHECKs make an overdraft fail instead of being written.
CREATE TABLE points_accounts (
    user_id          INTEGER PRIMARY KEY REFERENCES users(id),
    balance          INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    pending          INTEGER NOT NULL DEFAULT 0 CHECK (pending >= 0),
    -- Earned and posted, ever (badges); never decreases except by reversal of an earn.
    earned_total     INTEGER NOT NULL DEFAULT 0,
    last_activity_at INTEGER NOT NULL,
    -- 1: left out of leaderboards (the shopper's choice on /account).
    leaderboard_opt_out INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE points_ledger (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    -- 'available' (spendable) or 'pending' (earned on an order not yet fulfilled).
    bucket     TEXT NOT NULL,
    delta      INTEGER NOT NULL CHECK (delta <> 0),
    kind       TEXT NOT NULL,
    -- What caused the row ('order:12:earn'); with the bucket, unique: each cause counts once.
    source     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    actor_id   INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    UNIQUE (source, bucket)
);
CREATE INDEX points_ledger_user ON points_ledger(user_id, created_at);
CREATE INDEX points_ledger_time ON points_ledger(created_at);

-- Points earned per leaderboard period ('all', 'm2026-11', 'w2026-48'), kept with each earn.
CREATE TABLE points_period_totals (
    period  TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    points  INTEGER NOT NULL,
    PRIMARY KEY (period, user_id)
);
CREATE INDEX points_period_rank ON points_period_totals(period, points);

-- Orders record what was paid with points; earned points follow the order's status.
ALTER TABLE orders ADD COLUMN points_redeemed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN discount_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN status_changed_at INTEGER;

CREATE TABLE badges (
    key         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    -- 'orders', 'categories', 'points_earned' or 'reviews_approved', reaching `threshold`.
    rule        TEXT NOT NULL,
    threshold   INTEGER NOT NULL CHECK (threshold > 0),
    created_at  INTEGER NOT NULL
);
INSERT INTO badges (key, name, description, rule, threshold, created_at) VALUES
    ('first_purchase', 'First purchase', 'Placed a first order.', 'orders', 1, 0),
    ('explorer', 'Explorer', 'Bought from 3 categories.', 'categories', 3, 0),
    ('thousand_points', 'Points collector', 'Earned 1,000 points.', 'points_earned', 1000, 0),
    ('reviewer', 'Reviewer', '5 approved reviews.', 'reviews_approved', 5, 0);

CREATE TABLE user_badges (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    badge_key  TEXT NOT NULL REFERENCES badges(key),
    awarded_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, badge_key)
);

CREATE TABLE challenges (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL,
    -- 'orders', 'categories', 'spend_cents' or 'reviews_approved' within [starts_at, ends_at).
    goal          TEXT NOT NULL,
    target        INTEGER NOT NULL CHECK (target > 0),
    reward_points INTEGER NOT NULL CHECK (reward_points > 0),
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
);
