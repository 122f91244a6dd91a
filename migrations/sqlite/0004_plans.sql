-- Subscriptions: versioned plans and their entitlements, one subscription per account,
-- invoices of the built-in payment provider, an audit log, and the features plans sell
-- (wishlist, support requests). Money is integer cents, time integer epoch milliseconds.

CREATE TABLE plans (
    key             TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    -- Order on the pricing page and the direction of a change: higher is an upgrade.
    rank            INTEGER NOT NULL UNIQUE,
    current_version INTEGER NOT NULL
);

-- A plan as it was sold from `created_at`: editing a plan appends a version, so existing
-- subscribers keep the price and entitlements they signed up for.
CREATE TABLE plan_versions (
    plan_key    TEXT NOT NULL REFERENCES plans(key),
    version     INTEGER NOT NULL,
    -- Price per monthly period.
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    -- Comma-separated feature keys.
    features    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  INTEGER REFERENCES users(id),
    PRIMARY KEY (plan_key, version)
);

INSERT INTO plans (key, name, rank, current_version) VALUES
    ('free', 'Free', 0, 1), ('basic', 'Basic', 1, 1), ('premium', 'Premium', 2, 1);
INSERT INTO plan_versions (plan_key, version, price_cents, features, created_at) VALUES
    ('free', 1, 0, 'basic_search,view_products', 0),
    ('basic', 1, 499, 'basic_search,view_products,advanced_filters,wishlist', 0),
    ('premium', 1, 999, 'basic_search,view_products,advanced_filters,wishlist,personalized_recommendations,priority_support', 0);

-- An account without a row is on the current version of the free plan.
CREATE TABLE subscriptions (
    user_id          INTEGER PRIMARY KEY REFERENCES users(id),
    plan_key         TEXT NOT NULL,
    plan_version     INTEGER NOT NULL,
    period_start     INTEGER NOT NULL,
    period_end       INTEGER NOT NULL,
    -- A downgrade or cancellation waits for the period end: the plan that starts then.
    next_plan_key    TEXT REFERENCES plans(key),
    updated_at       INTEGER NOT NULL,
    FOREIGN KEY (plan_key, plan_version) REFERENCES plan_versions(plan_key, version)
);
CREATE INDEX subscriptions_period_end ON subscriptions(period_end);
CREATE INDEX subscriptions_plan ON subscriptions(plan_key, plan_version);

CREATE TABLE invoices (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    -- 'open' until paid; 'paid' once the provider (or the owner, for the built-in one) says so.
    status      TEXT NOT NULL DEFAULT 'open',
    total_cents INTEGER NOT NULL,
    provider    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    paid_at     INTEGER
);
CREATE INDEX invoices_user ON invoices(user_id, created_at);
CREATE INDEX invoices_status ON invoices(status, created_at);

CREATE TABLE invoice_lines (
    id           INTEGER PRIMARY KEY,
    invoice_id   INTEGER NOT NULL REFERENCES invoices(id),
    description  TEXT NOT NULL,
    -- Negative for a credit (the unused part of a plan left by an upgrade).
    amount_cents INTEGER NOT NULL,
    plan_key     TEXT NOT NULL,
    plan_version INTEGER NOT NULL,
    period_start INTEGER NOT NULL,
    period_end   INTEGER NOT NULL
);
CREATE INDEX invoice_lines_invoice ON invoice_lines(invoice_id);

CREATE TABLE subscription_audit (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    -- Who made the change: the shopper, an admin, or NULL for the renewal job.
    actor_id   INTEGER REFERENCES users(id),
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX subscription_audit_user ON subscription_audit(user_id, created_at);

CREATE TABLE plan_audit (
    id         INTEGER PRIMARY KEY,
    plan_key   TEXT NOT NULL REFERENCES plans(key),
    version    INTEGER NOT NULL,
    detail     TEXT NOT NULL,
    user_id    INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);

-- The entitlements of the session's account, computed once and reused until the plan
-- changes (the change clears it in its transaction) or the period ends (`valid_until`).
ALTER TABLE sessions ADD COLUMN entitlements TEXT;

CREATE TABLE wishlist_items (
    user_id        INTEGER NOT NULL REFERENCES users(id),
    sku            TEXT NOT NULL REFERENCES products(sku),
    added_at       INTEGER NOT NULL,
    -- 1 while the product is out of stock; when it comes back the time is recorded.
    awaiting_stock INTEGER NOT NULL DEFAULT 0,
    back_in_stock_at INTEGER,
    PRIMARY KEY (user_id, sku)
);
CREATE INDEX wishlist_items_sku ON wishlist_items(sku);

CREATE TABLE support_requests (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    -- 1 when the account had `priority_support` when it asked: sorted first in the queue.
    priority   INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL DEFAULT 'open',
    created_at INTEGER NOT NULL
);
CREATE INDEX support_requests_queue ON support_requests(status, priority, created_at);

-- Approved reviews' ratings per product, kept by the reviews playbook; read by the
-- minimum-rating filter.
ALTER TABLE product_stats ADD COLUMN rating_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE product_stats ADD COLUMN rating_total INTEGER NOT NULL DEFAULT 0;
