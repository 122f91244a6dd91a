-- Referrals, the moderation pre-screen's findings, and brand insights.

-- One code per account, created the first time the account asks for it. Random, so codes
-- cannot be enumerated.
CREATE TABLE referral_codes (
    user_id    INTEGER PRIMARY KEY REFERENCES users(id),
    code       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- Each visit of /r/{code}: the top of the funnel.
CREATE TABLE referral_clicks (
    id          INTEGER PRIMARY KEY,
    referrer_id INTEGER NOT NULL REFERENCES users(id),
    visitor_id  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX referral_clicks_referrer ON referral_clicks(referrer_id, created_at);

-- The devices (mercato_vid) an account registered or logged in from: a referral from one
-- of the referrer's own devices is a self-referral.
CREATE TABLE account_devices (
    user_id       INTEGER NOT NULL REFERENCES users(id),
    visitor_id    TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, visitor_id)
);
CREATE INDEX account_devices_visitor ON account_devices(visitor_id);

-- A registration that came through a referral link. The points are fixed when it is
-- recorded; `order_id` is the referee's first fulfilled paid order (set once, so the reward
-- is paid once) and `reversed_at` its refund.
CREATE TABLE referrals (
    id              INTEGER PRIMARY KEY,
    referrer_id     INTEGER NOT NULL REFERENCES users(id),
    referee_id      INTEGER NOT NULL UNIQUE REFERENCES users(id),
    referrer_points INTEGER NOT NULL CHECK (referrer_points >= 0),
    referee_points  INTEGER NOT NULL CHECK (referee_points >= 0),
    created_at      INTEGER NOT NULL,
    order_id        INTEGER UNIQUE REFERENCES orders(id),
    converted_at    INTEGER,
    reversed_at     INTEGER
);
CREATE INDEX referrals_referrer ON referrals(referrer_id, created_at);

INSERT INTO badges (key, name, description, rule, threshold, created_at) VALUES
    ('ambassador', 'Ambassador', 'A friend you referred made a first order.', 'referral_converted', 1, 0);

-- Products belong to a brand; a brand's API key reads that brand's insights only.
ALTER TABLE products ADD COLUMN brand TEXT;
CREATE INDEX products_brand ON products(brand);

-- Keys are shown once and stored as SHA-256 hashes.
CREATE TABLE brand_keys (
    id         INTEGER PRIMARY KEY,
    brand      TEXT NOT NULL,
    label      TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
