-- Pricing signals beyond stock: sales velocity, competitor offers, the cooldown, and why each
-- price changed.

-- Units sold per product and day (days since the Unix epoch, UTC), kept by the `velocity`
-- consumer from `order_placed`.
CREATE TABLE sales_daily (
    sku   TEXT NOT NULL REFERENCES products(sku),
    day   INTEGER NOT NULL,
    units INTEGER NOT NULL CHECK (units >= 0),
    PRIMARY KEY (sku, day)
);

-- The latest offer of each competitor (source) for each product.
CREATE TABLE competitor_offers (
    sku         TEXT NOT NULL REFERENCES products(sku),
    source      TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents > 0),
    observed_at INTEGER NOT NULL,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (sku, source)
);

-- Every imported offer, for the simulation's replay of the last 30 days.
CREATE TABLE competitor_offer_log (
    id          INTEGER PRIMARY KEY,
    sku         TEXT NOT NULL REFERENCES products(sku),
    source      TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    imported_at INTEGER NOT NULL
);
CREATE INDEX competitor_offer_log_sku_time ON competitor_offer_log(sku, imported_at);

-- What caused each price change: stock, velocity, competitor or manual (rules saved).
-- NULL on rows written before causes were recorded.
ALTER TABLE price_history ADD COLUMN cause TEXT;
CREATE INDEX price_history_time ON price_history(created_at);

-- When the price last changed automatically (the cooldown counts from here).
ALTER TABLE products ADD COLUMN price_changed_at INTEGER;
