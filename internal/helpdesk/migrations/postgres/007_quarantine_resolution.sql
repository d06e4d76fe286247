-- What an administrator did with a quarantined message: released as a
-- follow-up of a ticket or as a new ticket (ticket_reference), or
-- discarded; resolved_at (already there) says when.
ALTER TABLE mail_quarantine ADD COLUMN resolution TEXT NOT NULL DEFAULT '';
ALTER TABLE mail_quarantine ADD COLUMN ticket_reference TEXT NOT NULL DEFAULT '';
ALTER TABLE mail_quarantine ADD COLUMN resolved_by BIGINT REFERENCES users(id);
