-- Dynamic pricing: rule sets per scope, their audit log, and the Omnibus reference price.

CREATE TABLE pricing_rules (
    -- 'global', 'category:<slug>' or 'product:<sku>'; the most specific scope wins.
    scope      TEXT PRIMARY KEY,
    rules      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by INTEGER REFERENCES users(id)
);

CREATE TABLE pricing_audit (
    id         INTEGER PRIMARY KEY,
    scope      TEXT NOT NULL,
    before     TEXT,
    after      TEXT,
    user_id    INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);

-- The lowest price of the 30 days before the current price took effect, recorded when that
-- price is a reduction (EU Omnibus Directive, Art. 6a); NULL when it is not a reduction.
ALTER TABLE products ADD COLUMN reference_30d_cents INTEGER;

CREATE INDEX domain_events_kind_id ON domain_events(kind, id);
