-- Practice (src/practice): each tenant's projects and the steps of their
-- plans, written after every step so that a restart resumes where work
-- stopped. A step with no row is pending.
CREATE TABLE practice_projects (
    tenant         TEXT    NOT NULL,
    project_id     TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('active', 'completed')),
    started_ms     INTEGER NOT NULL,
    completed_ms   INTEGER,
    -- The learnings log's last seq when the project started: its learnings
    -- are the entries after it about its goals.
    learnings_from INTEGER NOT NULL,
    -- Work time still owed to the last `work` request (a restart resumes it).
    budget_ms      INTEGER NOT NULL DEFAULT 0,
    worked_ms      INTEGER NOT NULL DEFAULT 0,
    -- The completion report (JSON), once completed.
    report         TEXT,
    PRIMARY KEY (tenant, project_id)
);

CREATE TABLE practice_steps (
    tenant      TEXT    NOT NULL,
    project_id  TEXT    NOT NULL,
    phase       INTEGER NOT NULL CHECK (phase BETWEEN 1 AND 5),
    goal_id     TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('done', 'failed', 'waiting')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    -- What the step measured (JSON).
    result      TEXT    NOT NULL DEFAULT '{}',
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (tenant, project_id, phase, goal_id)
);

-- A skill version's documentation (markdown): what it does, how to call
-- it, what it builds on, the edge cases it was hardened against.
CREATE TABLE skill_docs (
    tenant      TEXT    NOT NULL,
    skill_id    TEXT    NOT NULL CHECK (length(skill_id) = 64),
    doc         TEXT    NOT NULL,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (tenant, skill_id)
);
