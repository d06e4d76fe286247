-- Outgoing notifications are written here in the transaction of the ticket
-- change they report, then delivered by a worker (see outbox.go): a change
-- is never committed without its mail, and a mail is never lost because
-- the SMTP server was down at that moment. A message waiting has neither
-- sent_at nor failed_at; next_attempt_at is both the backoff and the lease
-- of the process delivering it.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    message TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    sent_at TIMESTAMP,
    failed_at TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_ticket ON mail_outbox(ticket_id);
