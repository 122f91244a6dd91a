-- Feature flags: targeting rules per flag, an audit log of every change, and a generation
-- counter that every app server polls to drop its cached flags within a second or two.

CREATE TABLE flags (
    key           TEXT PRIMARY KEY,
    description   TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('boolean', 'json')),
    is_on         INTEGER NOT NULL,
    default_value TEXT NOT NULL,
    off_value     TEXT NOT NULL,
    -- JSON array of rules (`flags::domain::Rule`), evaluated in order.
    rules         TEXT NOT NULL,
    version       INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE flag_audit (
    id         INTEGER PRIMARY KEY,
    flag_key   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    actor_id   INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX flag_audit_key ON flag_audit(flag_key, id);

CREATE TABLE flags_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO flags_state (id, generation) VALUES (1, 1);

-- Two features under flags from the start, on for everyone: the owner can roll them out to
-- a share of visitors, to a plan or a segment, or switch them off at once.
INSERT INTO flags (key, description, kind, is_on, default_value, off_value, rules, version, updated_at) VALUES
    ('points_redemption', 'Shoppers can pay part of an order with loyalty points at checkout.', 'boolean', 1,
     'true', 'false', '[]', 1, 0),
    ('frequently_bought_together', 'The "Frequently bought together" block on product pages.', 'boolean', 1,
     'true', 'false', '[]', 1, 0);
