-- The interpreter a `run_python` step ran on: 'core' (every step before
-- this column) or 'data' (numpy and pandas). A trace crystallizes into a
-- skill on the runtime its steps needed.
ALTER TABLE trace_steps ADD COLUMN runtime TEXT NOT NULL DEFAULT 'core' CHECK (runtime IN ('core', 'data'));
