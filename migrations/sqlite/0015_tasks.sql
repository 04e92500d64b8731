-- Tasks (the MCP Tasks extension, SEP-2663): long work a client started
-- and polls (`tasks/get`), answers (`tasks/update`) or stops
-- (`tasks/cancel`). The row is the truth every replica reads; the process
-- named by `holder` runs the work and proves it is alive by moving
-- `heartbeat_ms`, so a task whose holder died (a restart, a crash) is seen
-- as such and ends `failed` with that reason instead of `working` forever.
-- `outcome` is the terminal payload: {"result": ...} or {"error": ...}.
CREATE TABLE tasks (
    id               TEXT    NOT NULL PRIMARY KEY,
    tenant           TEXT    NOT NULL,
    tool             TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('working', 'input_required', 'completed', 'failed', 'cancelled')),
    message          TEXT,
    created_ms       INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL,
    ttl_ms           INTEGER NOT NULL,
    poll_ms          INTEGER NOT NULL,
    holder           TEXT    NOT NULL,
    heartbeat_ms     INTEGER NOT NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
    input_requests   TEXT,
    outcome          TEXT
);
CREATE INDEX tasks_by_tenant ON tasks (tenant, created_ms);

-- Answers to a task's input requests that reached a replica other than the
-- holder: the holder takes them on its next heartbeat.
CREATE TABLE task_inputs (
    task_id   TEXT NOT NULL,
    key       TEXT NOT NULL,
    response  TEXT NOT NULL,
    PRIMARY KEY (task_id, key)
);

-- Secrets every replica shares, made once by whichever needs one first:
-- the key that seals the state an input-required result hands the client
-- (so a state a client changed, or one of another tenant, is refused by
-- any replica).
CREATE TABLE server_secrets (
    name   TEXT NOT NULL PRIMARY KEY,
    value  TEXT NOT NULL
);
