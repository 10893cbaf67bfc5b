-- The whole Ugene schema. Idempotent: applied at every start-up and by `ugene migrate`.
-- Times are timestamptz written from the application's clock (never now()), so tests can move time.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE IF NOT EXISTS ugene_role (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    permissions integer[] NOT NULL DEFAULT '{}',
    status      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS ugene_role_name_key ON ugene_role (lower(name));

CREATE TABLE IF NOT EXISTS ugene_user (
    id            bigserial PRIMARY KEY,
    uid           text NOT NULL UNIQUE,
    -- username, email and password are NULL only on an erased (forget-me) tombstone.
    username      text,
    email         text,
    password_hash text,
    pending_email text,
    is_admin      boolean NOT NULL DEFAULT false,
    deleted       boolean NOT NULL DEFAULT false,
    erased        boolean NOT NULL DEFAULT false,
    status        boolean NOT NULL DEFAULT true,     -- true active, false blocked
    completed     boolean NOT NULL DEFAULT false,    -- email confirmed, or created complete
    restricted    boolean NOT NULL DEFAULT false,    -- GDPR restriction of processing
    language      text NOT NULL DEFAULT 'en',
    totp_secret   text,
    totp_last_step bigint,
    creator_id    bigint REFERENCES ugene_user (id) ON DELETE SET NULL,
    role_id       bigint REFERENCES ugene_role (id) ON DELETE SET NULL,
    mailsent      timestamptz,
    mailconfirmed timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz,
    logged_at     timestamptz
);
-- Uniqueness is the database's job, case-insensitively, so racing signups cannot both win.
CREATE UNIQUE INDEX IF NOT EXISTS ugene_user_username_key ON ugene_user (lower(username));
CREATE UNIQUE INDEX IF NOT EXISTS ugene_user_email_key ON ugene_user (lower(email));
CREATE INDEX IF NOT EXISTS ugene_user_created ON ugene_user (created_at, id);
-- Serves admin/show-users' substring filter on a million users.
CREATE INDEX IF NOT EXISTS ugene_user_search_trgm ON ugene_user
    USING gin ((lower(username) || ' ' || lower(email)) gin_trgm_ops);
-- The planner estimates a '%abc%' match from this expression's histogram; the default 100 buckets
-- only tell 0 % from 1 %, too coarse to choose between walking the accounts in order and the index.
ALTER INDEX ugene_user_search_trgm ALTER COLUMN 1 SET STATISTICS 1000;

CREATE TABLE IF NOT EXISTS ugene_user_config (
    id            bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES ugene_user (id) ON DELETE CASCADE,
    config_name   text NOT NULL,
    config_group  text NOT NULL,
    config_key    text NOT NULL,
    current_value text NOT NULL,
    default_value text NOT NULL,
    status        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    UNIQUE (user_id, config_key)
);

-- One row per access token. A sign-in starts a family; each refresh adds a row to it.
CREATE TABLE IF NOT EXISTS ugene_session (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES ugene_user (id) ON DELETE CASCADE,
    family_id    bigint,
    access_hash  bytea NOT NULL UNIQUE,
    refresh_hash bytea UNIQUE,
    completed    boolean NOT NULL,
    expires_at   timestamptz NOT NULL,
    refresh_expires_at timestamptz,
    rotated_at   timestamptz,
    revoked_at   timestamptz,
    ip           text,
    user_agent   text,
    created_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ugene_session_user ON ugene_session (user_id) WHERE revoked_at IS NULL;
CREATE INDEX IF NOT EXISTS ugene_session_family ON ugene_session (family_id);

-- One-time links and mailed codes ("user-hash" in the protocol). Only digests are stored.
CREATE TABLE IF NOT EXISTS ugene_token (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES ugene_user (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    digest      bytea NOT NULL UNIQUE,
    email       text,
    payload     jsonb NOT NULL DEFAULT '{}',
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ugene_token_user_kind ON ugene_token (user_id, kind);

CREATE TABLE IF NOT EXISTS ugene_setting (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz
);
INSERT INTO ugene_setting (key, value) VALUES
    ('allow-registration', 'true'), ('comfirmation-email', 'true'), ('sendmail-delete-user', 'true')
ON CONFLICT (key) DO NOTHING;
-- Every write to the switches, by Ugene or by hand, tells each worker to drop its copy (ugene/switches.py).
CREATE OR REPLACE FUNCTION ugene_setting_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ugene_setting', '');
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER ugene_setting_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ugene_setting
    FOR EACH STATEMENT EXECUTE FUNCTION ugene_setting_changed();

-- Failed-attempt counters and mail rate limits, shared by every worker.
CREATE TABLE IF NOT EXISTS ugene_throttle (
    key           text PRIMARY KEY,
    failures      integer NOT NULL DEFAULT 0,
    wait_seconds  integer NOT NULL DEFAULT 0,
    locked_until  timestamptz,
    last_at       timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS ugene_outbox (
    id            bigserial PRIMARY KEY,
    user_id       bigint REFERENCES ugene_user (id) ON DELETE CASCADE,
    recipient     text NOT NULL,
    template      text NOT NULL,
    language      text NOT NULL,
    subject       text NOT NULL,
    body          text NOT NULL,
    attachment_name text,
    attachment    bytea,
    state         text NOT NULL DEFAULT 'queued',   -- queued | sent | abandoned
    attempts      integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    claimed_until timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL,
    sent_at       timestamptz
);
CREATE INDEX IF NOT EXISTS ugene_outbox_due ON ugene_outbox (next_attempt_at) WHERE state = 'queued';

CREATE TABLE IF NOT EXISTS ugene_activity (
    id         bigserial PRIMARY KEY,
    user_id    bigint REFERENCES ugene_user (id) ON DELETE SET NULL,
    actor_id   bigint REFERENCES ugene_user (id) ON DELETE SET NULL,
    action     text NOT NULL,
    detail     jsonb NOT NULL DEFAULT '{}',
    ip         text,
    user_agent text,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ugene_activity_user ON ugene_activity (user_id, created_at);
CREATE INDEX IF NOT EXISTS ugene_activity_actor ON ugene_activity (actor_id);

CREATE TABLE IF NOT EXISTS ugene_file (
    id          bigserial PRIMARY KEY,
    fileid      text NOT NULL UNIQUE,
    user_id     bigint NOT NULL REFERENCES ugene_user (id) ON DELETE CASCADE,
    kind        text NOT NULL,                -- avatar | file
    name        text NOT NULL,                -- the client's filename, metadata only
    stored_name text NOT NULL,                -- generated name on disk
    content_type text NOT NULL,
    size        bigint NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ugene_file_user ON ugene_file (user_id, kind);
