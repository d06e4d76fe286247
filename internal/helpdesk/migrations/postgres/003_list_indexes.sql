-- The ticket list brings in the requester's own tickets as an arm of its
-- own (see Store.list): this index gives them, newest first, without
-- reading every ticket of a status.
CREATE INDEX tickets_requester_created ON tickets(requester_id, created_at, id);
