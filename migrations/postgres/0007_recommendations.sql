-- Recommendations: co-purchase counts kept incrementally from `order_placed` events, and
-- each visitor's recently viewed products (from `product_viewed`), so no request scans orders.

-- How many orders contained both products. Stored in both directions, so the pairs of one
-- product are one index range.
CREATE TABLE co_purchases (
    sku_a  TEXT NOT NULL REFERENCES products(sku),
    sku_b  TEXT NOT NULL REFERENCES products(sku),
    orders BIGINT NOT NULL,
    PRIMARY KEY (sku_a, sku_b)
);

-- Orders counted into `co_purchases` (the N of the lift score).
CREATE TABLE co_purchase_totals (
    id     BIGINT PRIMARY KEY CHECK (id = 1),
    orders BIGINT NOT NULL
);
INSERT INTO co_purchase_totals (id, orders) VALUES (1, 0);

-- The last products each visitor looked at (at most 20 kept per visitor).
CREATE TABLE visitor_views (
    visitor_id TEXT NOT NULL,
    sku        TEXT NOT NULL REFERENCES products(sku),
    viewed_at  BIGINT NOT NULL,
    PRIMARY KEY (visitor_id, sku)
);
CREATE INDEX visitor_views_recent ON visitor_views(visitor_id, viewed_at);

-- Units each account bought of each product (from `order_placed`): "already bought" and
-- preferred categories read these few rows instead of the account's whole order history.
CREATE TABLE user_products (
    user_id BIGINT NOT NULL REFERENCES users(id),
    sku     TEXT NOT NULL REFERENCES products(sku),
    units   BIGINT NOT NULL,
    PRIMARY KEY (user_id, sku)
);
