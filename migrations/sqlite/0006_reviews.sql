-- Reviews and Q&A: moderated before display, with the disclosures (verified buyer,
-- sponsored, incentivized) stored on the row so no edit can drop them. Flags are 0/1.

CREATE TABLE reviews (
    id              INTEGER PRIMARY KEY,
    sku             TEXT NOT NULL REFERENCES products(sku),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    rating          INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    -- 'pending' (in the moderation queue), 'approved' (shown and counted), 'rejected'.
    status          TEXT NOT NULL,
    reject_reason   TEXT,
    -- Why moderation is needed (blocklisted word, not a verified buyer), for the moderator.
    flag_reason     TEXT,
    verified_buyer  INTEGER NOT NULL DEFAULT 0,
    -- Set by the owner; once set it can be renamed, never cleared.
    sponsored_by    TEXT,
    -- Points (or anything of value) the author received for the review; never cleared.
    incentive_points INTEGER NOT NULL DEFAULT 0,
    helpful_count   INTEGER NOT NULL DEFAULT 0,
    merchant_reply  TEXT,
    merchant_reply_at INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- First approval (the review_approved event and the points happen once).
    first_approved_at INTEGER,
    UNIQUE (sku, user_id)
);
CREATE INDEX reviews_newest ON reviews(sku, status, created_at);
CREATE INDEX reviews_helpful ON reviews(sku, status, helpful_count);
CREATE INDEX reviews_rating ON reviews(sku, status, rating);
CREATE INDEX reviews_queue ON reviews(status, created_at);
CREATE INDEX reviews_author ON reviews(user_id);

-- One helpful vote per shopper per review.
CREATE TABLE review_votes (
    review_id INTEGER NOT NULL REFERENCES reviews(id),
    user_id   INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (review_id, user_id)
);

-- Approved ratings per product and star, kept in the transaction that approves or
-- un-approves a review, so the product page reads the summary in one row.
ALTER TABLE product_stats ADD COLUMN rating_1 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE product_stats ADD COLUMN rating_2 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE product_stats ADD COLUMN rating_3 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE product_stats ADD COLUMN rating_4 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE product_stats ADD COLUMN rating_5 INTEGER NOT NULL DEFAULT 0;

CREATE TABLE questions (
    id          INTEGER PRIMARY KEY,
    sku         TEXT NOT NULL REFERENCES products(sku),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    body        TEXT NOT NULL,
    status      TEXT NOT NULL,
    reject_reason TEXT,
    flag_reason TEXT,
    votes       INTEGER NOT NULL DEFAULT 0,
    featured_answer_id INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX questions_product ON questions(sku, status, votes);
CREATE INDEX questions_queue ON questions(status, created_at);

CREATE TABLE answers (
    id             INTEGER PRIMARY KEY,
    question_id    INTEGER NOT NULL REFERENCES questions(id),
    user_id        INTEGER NOT NULL REFERENCES users(id),
    body           TEXT NOT NULL,
    status         TEXT NOT NULL,
    reject_reason  TEXT,
    flag_reason    TEXT,
    -- 1: written by the shop's staff; verified_buyer: by someone who bought the product.
    is_staff       INTEGER NOT NULL DEFAULT 0,
    verified_buyer INTEGER NOT NULL DEFAULT 0,
    sponsored_by   TEXT,
    votes          INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    first_approved_at INTEGER
);
CREATE INDEX answers_question ON answers(question_id, status, votes);
CREATE INDEX answers_queue ON answers(status, created_at);

-- One vote per shopper per question or answer ('question' / 'answer').
CREATE TABLE qa_votes (
    target     TEXT NOT NULL,
    target_id  INTEGER NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (target, target_id, user_id)
);

-- Moderation settings (one row): auto-approve verified buyers' reviews, and words that
-- always send an item to a human.
CREATE TABLE moderation_settings (
    id                    INTEGER PRIMARY KEY CHECK (id = 1),
    auto_approve_verified INTEGER NOT NULL DEFAULT 0,
    blocklist             TEXT NOT NULL DEFAULT '',
    updated_at            INTEGER NOT NULL
);
INSERT INTO moderation_settings (id, auto_approve_verified, blocklist, updated_at) VALUES (1, 0, '', 0);

-- Who moderated what, when, and why.
CREATE TABLE moderation_log (
    id         INTEGER PRIMARY KEY,
    target     TEXT NOT NULL,
    target_id  INTEGER NOT NULL,
    action     TEXT NOT NULL,
    reason     TEXT,
    actor_id   INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX moderation_log_target ON moderation_log(target, target_id);
