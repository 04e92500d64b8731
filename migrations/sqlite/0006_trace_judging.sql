-- Automatic crystallization: a quiet trace (or one whose session ended) is
-- judged once, and the decision goes into the learnings log.
ALTER TABLE traces ADD COLUMN ended INTEGER NOT NULL DEFAULT 0 CHECK (ended IN (0, 1));
ALTER TABLE traces ADD COLUMN judged INTEGER NOT NULL DEFAULT 0 CHECK (judged IN (0, 1));
CREATE INDEX traces_unjudged ON traces (judged, closed, updated_ms);
