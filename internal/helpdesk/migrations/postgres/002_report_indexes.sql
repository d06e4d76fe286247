-- Indexes for the reports and lists over a million tickets (see
-- bench_report_test.go). Reports select the tickets of a set of
-- establishments (a commune, a collectivité) by opening or by solution
-- date; carrying the columns they aggregate lets both engines answer from
-- the index alone.

-- Supersedes tickets_establishment (establishment_id, created_at): same
-- prefix, so the list by establishment still reads it; the extra columns
-- cover the opened and backlog figures.
DROP INDEX tickets_establishment;
CREATE INDEX tickets_establishment_created ON tickets(establishment_id, created_at, tto_met, solved_at, closed_at);

-- Tickets solved in a period: resolution compliance and times.
CREATE INDEX tickets_establishment_solved ON tickets(establishment_id, solved_at, ttr_met, resolve_open_seconds, created_at);

-- A page of one status within a scope of establishments, newest first:
-- the page's ids come from the index alone (id included), then only the
-- 50 rows of the page are read.
CREATE INDEX tickets_establishment_status ON tickets(establishment_id, status, created_at, id);
