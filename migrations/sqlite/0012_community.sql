-- The members' community (topics per catalog category, moderated posts) and the full-text
-- index of approved user content (reviews, questions, answers, community posts).

-- A topic is its title plus its opening post; it is listed once that post is approved.
CREATE TABLE community_topics (
    id            INTEGER PRIMARY KEY,
    category_slug TEXT NOT NULL REFERENCES categories(slug),
    user_id       INTEGER NOT NULL REFERENCES users(id),
    title         TEXT NOT NULL,
    -- The opening post's status ('pending', 'approved', 'rejected').
    status        TEXT NOT NULL,
    -- Approved replies, kept in the transaction of every reply's status change.
    reply_count   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    -- The newest approved post (the topic list's order).
    last_post_at  INTEGER NOT NULL
);
CREATE INDEX community_topics_category ON community_topics(category_slug, status, last_post_at);
CREATE INDEX community_topics_newest ON community_topics(status, last_post_at);

CREATE TABLE community_posts (
    id            INTEGER PRIMARY KEY,
    topic_id      INTEGER NOT NULL REFERENCES community_topics(id),
    user_id       INTEGER NOT NULL REFERENCES users(id),
    -- 1 for the topic's opening post.
    is_opening    INTEGER NOT NULL DEFAULT 0,
    body          TEXT NOT NULL,
    status        TEXT NOT NULL,
    reject_reason TEXT,
    flag_reason   TEXT,
    -- Set by the owner; once set it can be renamed, never cleared.
    sponsored_by  TEXT,
    created_at    INTEGER NOT NULL,
    first_approved_at INTEGER
);
CREATE INDEX community_posts_topic ON community_posts(topic_id, status, created_at);
CREATE INDEX community_posts_queue ON community_posts(status, created_at);
CREATE INDEX community_posts_author ON community_posts(user_id, topic_id);

-- Posting is a premium feature. Premium subscribers bought "premium", and the feature did
-- not exist when they did, so every premium version gets it rather than a new version only
-- new subscribers would see.
UPDATE plan_versions SET features = features || ',community_posting' WHERE plan_key = 'premium';

-- One row per approved, searchable item, written by the storage functions that change an
-- item's status (an item leaves the index when it leaves 'approved').
CREATE TABLE ugc_index (
    id             INTEGER PRIMARY KEY,
    -- 'review', 'question', 'answer', 'post'.
    kind           TEXT NOT NULL,
    item_id        INTEGER NOT NULL,
    sku            TEXT,
    category_slug  TEXT,
    rating         INTEGER,
    verified_buyer INTEGER NOT NULL DEFAULT 0,
    topic_id       INTEGER,
    -- Disclosures shown with a result, as on the item's own page.
    sponsored_by   TEXT,
    incentive_points INTEGER NOT NULL DEFAULT 0,
    -- The heading a result shows (product name or topic title); not searched.
    label          TEXT NOT NULL,
    -- Searched, the title weighing more than the body.
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    UNIQUE (kind, item_id)
);
CREATE INDEX ugc_index_created ON ugc_index(created_at);

-- External-content FTS5 table over ugc_index, kept in step by triggers.
CREATE VIRTUAL TABLE ugc_fts USING fts5(
    title, body, content='ugc_index', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER ugc_index_insert AFTER INSERT ON ugc_index BEGIN
    INSERT INTO ugc_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER ugc_index_delete AFTER DELETE ON ugc_index BEGIN
    INSERT INTO ugc_fts (ugc_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER ugc_index_update AFTER UPDATE ON ugc_index BEGIN
    INSERT INTO ugc_fts (ugc_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO ugc_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;

-- What was approved before this migration.
INSERT INTO ugc_index (kind, item_id, sku, category_slug, rating, verified_buyer, topic_id, sponsored_by,
    incentive_points, label, title, body, created_at)
SELECT 'review', r.id, r.sku, p.category_slug, r.rating, r.verified_buyer, NULL, r.sponsored_by, r.incentive_points,
    p.name, r.title, r.body, r.created_at
FROM reviews r JOIN products p ON p.sku = r.sku WHERE r.status = 'approved';
INSERT INTO ugc_index (kind, item_id, sku, category_slug, rating, verified_buyer, topic_id, sponsored_by,
    incentive_points, label, title, body, created_at)
SELECT 'question', q.id, q.sku, p.category_slug, NULL, 0, NULL, NULL, 0, p.name, '', q.body, q.created_at
FROM questions q JOIN products p ON p.sku = q.sku WHERE q.status = 'approved';
INSERT INTO ugc_index (kind, item_id, sku, category_slug, rating, verified_buyer, topic_id, sponsored_by,
    incentive_points, label, title, body, created_at)
SELECT 'answer', a.id, q.sku, p.category_slug, NULL, a.verified_buyer, NULL, a.sponsored_by, 0, p.name, '', a.body,
    a.created_at
FROM answers a JOIN questions q ON q.id = a.question_id JOIN products p ON p.sku = q.sku
WHERE a.status = 'approved' AND q.status = 'approved';
