-- Foundation schema: catalog, accounts, sessions, carts, orders and the event outbox.
-- Money is integer cents, time is integer milliseconds since the Unix epoch.

CREATE TABLE categories (
    slug        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    position    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE products (
    sku           TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    category_slug TEXT NOT NULL REFERENCES categories(slug),
    description   TEXT NOT NULL,
    image         TEXT NOT NULL,
    tags          TEXT NOT NULL DEFAULT '',
    base_cents    INTEGER NOT NULL CHECK (base_cents >= 0),
    cost_cents    INTEGER NOT NULL CHECK (cost_cents >= 0),
    price_cents   INTEGER NOT NULL CHECK (price_cents >= 0),
    price_reason  TEXT NOT NULL DEFAULT 'base',
    stock         INTEGER NOT NULL CHECK (stock >= 0),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX products_category ON products(category_slug);

CREATE TABLE price_history (
    id          INTEGER PRIMARY KEY,
    sku         TEXT NOT NULL REFERENCES products(sku),
    price_cents INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX price_history_sku_time ON price_history(sku, created_at);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'shopper',
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE cart_items (
    owner    TEXT NOT NULL,
    sku      TEXT NOT NULL REFERENCES products(sku),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (owner, sku)
);

CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    total_cents INTEGER NOT NULL CHECK (total_cents >= 0),
    status      TEXT NOT NULL DEFAULT 'placed',
    created_at  INTEGER NOT NULL
);
CREATE INDEX orders_user ON orders(user_id, created_at);

CREATE TABLE order_lines (
    order_id   INTEGER NOT NULL REFERENCES orders(id),
    sku        TEXT NOT NULL REFERENCES products(sku),
    name       TEXT NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    unit_cents INTEGER NOT NULL CHECK (unit_cents >= 0),
    PRIMARY KEY (order_id, sku)
);
CREATE INDEX order_lines_sku ON order_lines(sku);

CREATE TABLE domain_events (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    aggregate  TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- One row per (event, consumer). A consumer applies an event in the same transaction that
-- sets done_at, so the row is both the work queue and the idempotency record.
CREATE TABLE event_deliveries (
    event_id     INTEGER NOT NULL REFERENCES domain_events(id),
    consumer     TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    available_at INTEGER NOT NULL,
    done_at      INTEGER,
    last_error   TEXT,
    PRIMARY KEY (event_id, consumer)
);
CREATE INDEX event_deliveries_pending ON event_deliveries(done_at, available_at, event_id);

CREATE TABLE product_stats (
    sku        TEXT PRIMARY KEY REFERENCES products(sku),
    views      INTEGER NOT NULL DEFAULT 0,
    units_sold INTEGER NOT NULL DEFAULT 0,
    orders     INTEGER NOT NULL DEFAULT 0
);
