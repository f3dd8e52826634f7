-- Imported events carry the id their source gave them, or one derived from their content (customer, kind, time,
-- payload), so importing the same file twice stores each event once. Events from elsewhere may leave it NULL,
-- which the unique index allows any number of times.
ALTER TABLE events ADD COLUMN source_id text;
CREATE UNIQUE INDEX events_source_id ON events (source_id);
