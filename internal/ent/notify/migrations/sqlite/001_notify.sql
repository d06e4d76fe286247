-- The timeline: one row per person and notification. The primary key grows
-- with time, so a page is a keyset range on (user_id, id) and never an
-- OFFSET scan, however long the timeline.
CREATE TABLE notify_timeline (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notify_timeline_user ON notify_timeline(user_id, id);
-- The unread badge counts only unread rows, which stay few.
CREATE INDEX notify_timeline_unread ON notify_timeline(user_id) WHERE read_at IS NULL;

-- A person's choice of e-mail frequency for a type; absent: the type's
-- declared default.
CREATE TABLE notify_preferences (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    frequency TEXT NOT NULL,
    PRIMARY KEY (user_id, type)
);

-- Per-person settings; absent: quiet hours on.
CREATE TABLE notify_settings (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    quiet_hours BOOLEAN NOT NULL DEFAULT 1
);

-- Mails to send: one row per notification to mail, due at a time that
-- already respects quiet hours and digest schedules. Several processes
-- share it: a row is claimed (claimed_until) before sending.
CREATE TABLE notify_outbox (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    notification_id INTEGER NOT NULL REFERENCES notify_timeline(id) ON DELETE CASCADE,
    frequency TEXT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TIMESTAMP,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notify_outbox_due ON notify_outbox(due_at) WHERE sent_at IS NULL;
CREATE INDEX notify_outbox_user ON notify_outbox(user_id);
