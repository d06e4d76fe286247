-- A page of tickets is taken establishment by establishment (see
-- Store.list), newest first with the id as tie-break: with id right after
-- created_at the index gives that order as it is read, without sorting the
-- ties. The other columns stay so the reports still read it alone.
DROP INDEX tickets_establishment_created;
CREATE INDEX tickets_establishment_created ON tickets(establishment_id, created_at, id, tto_met, solved_at, closed_at);

-- The requester's own tickets of one status: equality on both columns, so
-- neither engine prefers the (status, created_at) index and walks every
-- closed ticket of the platform to find one requester's (the plan SQLite
-- 3.40 chose on the benchmark). Partial, because tickets opened by mail
-- from an unknown address have no requester: counted in the statistics,
-- those NULLs made requester_id = ? look like it matched every ticket, and
-- SQLite then scanned the table (EXPLAIN QUERY PLAN: SCAN t).
DROP INDEX tickets_requester_created;
CREATE INDEX tickets_requester_status ON tickets(requester_id, status, created_at, id) WHERE requester_id IS NOT NULL;
