-- Every skill call, for the web UI's execution log and for history that
-- survives a restart. Inputs and outputs are kept as bounded previews.
CREATE TABLE executions (
    seq         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT    NOT NULL,
    at_ms       INTEGER NOT NULL,
    skill       TEXT    NOT NULL,
    -- The version that ran (NULL when the call failed before one was found).
    version     INTEGER,
    input       TEXT    NOT NULL,
    -- The result preview when it succeeded, else NULL.
    output      TEXT,
    -- The error kind when it failed, else NULL; and its message.
    error_kind  TEXT,
    error       TEXT,
    fuel        INTEGER NOT NULL,
    elapsed_us  INTEGER NOT NULL
);

CREATE INDEX executions_by_tenant ON executions (tenant, seq);
