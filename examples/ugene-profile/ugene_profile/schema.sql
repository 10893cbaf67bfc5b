-- The profile module's own table, applied after Ugene's schema.sql at every start-up (idempotent).
-- A module's tables carry its name; a profile lives and dies with its account.
CREATE TABLE IF NOT EXISTS profile_profile (
    user_id     bigint PRIMARY KEY REFERENCES ugene_user (id) ON DELETE CASCADE,
    first_name  text,
    last_name   text,
    dob         date,
    address     text,
    postcode    text,
    city        text,
    country     char(2),
    metadata    jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
