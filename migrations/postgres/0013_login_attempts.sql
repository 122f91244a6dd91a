-- Wrong passwords in a row per e-mail address, for the growing delay after repeated
-- failures. Keyed by the address typed, whether or not an account has it, so the delay
-- says nothing about which addresses have accounts. In the database, not in memory, so it
-- holds across restarts and across every app server.
CREATE TABLE login_attempts (
    email           TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    locked_until    BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL
);
