-- The notes test plugin's own table, applied from its own schema file.
CREATE TABLE IF NOT EXISTS notes_note (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES ugene_user (id) ON DELETE CASCADE,
    text       text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_note_user ON notes_note (user_id);
