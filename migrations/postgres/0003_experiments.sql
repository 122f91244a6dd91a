-- A/B experiments (GrowthBook-compatible bucketing), their exposures and attributed
-- conversions, and the banner shown per customer segment.

CREATE TABLE experiments (
    key             TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    -- 'draft', 'running' or 'stopped'; a stopped experiment with a winner serves it to everyone.
    status          TEXT NOT NULL DEFAULT 'draft',
    coverage_bp     BIGINT NOT NULL DEFAULT 10000 CHECK (coverage_bp BETWEEN 0 AND 10000),
    -- Comma-separated segments ('new,returning'); empty means everyone.
    target_segments TEXT NOT NULL DEFAULT '',
    winner          TEXT,
    started_at      BIGINT,
    stopped_at      BIGINT,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE experiment_variants (
    experiment_key TEXT NOT NULL REFERENCES experiments(key),
    key            TEXT NOT NULL,
    position       BIGINT NOT NULL,
    weight_bp      BIGINT NOT NULL CHECK (weight_bp BETWEEN 0 AND 10000),
    headline       TEXT NOT NULL,
    subcopy        TEXT NOT NULL,
    cta_label      TEXT NOT NULL,
    cta_href       TEXT NOT NULL,
    image          TEXT NOT NULL,
    PRIMARY KEY (experiment_key, key)
);

-- One row per visitor, experiment and day (days since the Unix epoch, UTC).
CREATE TABLE experiment_exposures (
    experiment_key TEXT NOT NULL,
    visitor_id     TEXT NOT NULL,
    day            BIGINT NOT NULL,
    variant        TEXT NOT NULL,
    first_at       BIGINT NOT NULL,
    PRIMARY KEY (experiment_key, visitor_id, day)
);
CREATE INDEX experiment_exposures_visitor ON experiment_exposures(visitor_id, first_at);

-- Every conversion (add to cart, purchase) with the browser it came from. Attribution to
-- variants is a join with the exposures at read time (a conversion counts for the variants
-- its visitor saw before it), so it does not depend on the order events are delivered in.
CREATE TABLE visitor_conversions (
    event_id      BIGINT PRIMARY KEY,
    visitor_id    TEXT NOT NULL,
    -- 'add_to_cart' or 'purchase'
    kind          TEXT NOT NULL,
    revenue_cents BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE INDEX visitor_conversions_visitor ON visitor_conversions(visitor_id, created_at);

CREATE TABLE banners (
    segment    TEXT PRIMARY KEY,
    headline   TEXT NOT NULL,
    body       TEXT NOT NULL,
    cta_label  TEXT NOT NULL,
    cta_href   TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

INSERT INTO experiments (key, name, status, coverage_bp, target_segments, updated_at, started_at)
VALUES ('hero', 'Home hero', 'running', 10000, '', 0, 0);

INSERT INTO experiment_variants (experiment_key, key, position, weight_bp, headline, subcopy, cta_label, cta_href, image)
VALUES
    ('hero', 'control', 0, 3334, 'Good coffee and tea, fairly priced',
     'Small-batch beans, loose-leaf teas and the gear to brew them, shipped from our shop.',
     'Shop coffee', '/category/coffee', '/img/hero/control.svg'),
    ('hero', 'variant_a', 1, 3333, 'Roasted this week, at your door next',
     'Every bag is roasted to order in small batches. Free shipping from 40.00.',
     'Find your roast', '/category/coffee', '/img/hero/variant_a.svg'),
    ('hero', 'variant_b', 2, 3333, 'Brew better at home',
     'Grinders, kettles and pour-over gear picked by our baristas, with the beans to match.',
     'Shop brewing gear', '/category/brewing', '/img/hero/variant_b.svg');

INSERT INTO banners (segment, headline, body, cta_label, cta_href, updated_at)
VALUES
    ('new', 'New here? Start with a sampler',
     'Three of our favourite coffees in small bags, so you can find the one you love.', 'See coffees', '/category/coffee', 0),
    ('returning', 'Welcome back',
     'Your favourites are restocked. Reorder in two clicks from your account.', 'Your account', '/account', 0),
    ('high_value', 'Thank you for being one of our best customers',
     'Our newest single origins are in. You get them first.', 'Shop the new arrivals', '/category/coffee', 0);
