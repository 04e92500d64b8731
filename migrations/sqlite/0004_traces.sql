-- What agents did: traces of run_python steps, kept in the database so they
-- survive restarts and span the requests of stateless clients. Times are
-- milliseconds since the Unix epoch (BIGINT-compatible, as in PostgreSQL).
CREATE TABLE traces (
    tenant      TEXT    NOT NULL,
    id          TEXT    NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    kind        TEXT    NOT NULL CHECK (kind IN ('explicit', 'session', 'open')),
    -- The legacy MCP session whose trace this is (kind 'session').
    session     TEXT,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    closed      INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1)),
    -- The skill it was crystallized into.
    skill       TEXT,
    next_step   INTEGER NOT NULL DEFAULT 1,
    -- Bytes of the steps kept (their JSON), for the per-trace byte cap.
    bytes       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, id)
);

CREATE INDEX traces_open ON traces (tenant, kind, closed, updated_ms);
CREATE INDEX traces_by_session ON traces (tenant, session);
CREATE INDEX traces_by_age ON traces (updated_ms);

CREATE TABLE trace_steps (
    tenant      TEXT    NOT NULL,
    trace_id    TEXT    NOT NULL,
    step        INTEGER NOT NULL CHECK (step >= 1),
    code        TEXT    NOT NULL,
    -- JSON: the inputs bound before the cell ran; its value (NULL when it
    -- failed); the names it bound, and their values when JSON and small.
    inputs      TEXT    NOT NULL,
    value       TEXT,
    names       TEXT    NOT NULL,
    bound       TEXT    NOT NULL,
    error       TEXT,
    fuel        INTEGER NOT NULL,
    elapsed_us  INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (tenant, trace_id, step),
    FOREIGN KEY (tenant, trace_id) REFERENCES traces (tenant, id) ON DELETE CASCADE
);
