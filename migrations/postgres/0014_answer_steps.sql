-- The step whose result the agent reported back as its answer to the
-- person (`run_python` with `answer: true`): automatic crystallization in
-- `publish` mode publishes only traces that have one, reproducing it.
ALTER TABLE trace_steps ADD COLUMN answer BIGINT NOT NULL DEFAULT 0 CHECK (answer IN (0, 1));
