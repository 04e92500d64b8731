-- Per tenant, a revision that changes with every write to its skills (a
-- version added, a status changed, the skills reset). A server caches a
-- tenant's catalog (tools/list, search_skills) and checks it against this
-- with one indexed read, so a change made by any process or replica is seen
-- on the next request without reloading every skill each time.
CREATE TABLE skill_catalog (
    tenant   TEXT   NOT NULL PRIMARY KEY,
    revision BIGINT NOT NULL
);
