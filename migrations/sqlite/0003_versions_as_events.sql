-- Versions are events in a name's history, keyed by (tenant, name, version).
-- The same content (id) may now appear in several versions: re-publishing
-- an earlier version makes it current again as a new version whose parent
-- is the version it replaces, so a lifecycle answer is always the truth.
CREATE TABLE skill_versions_v3 (
    tenant      TEXT    NOT NULL DEFAULT 'local',
    id          TEXT    NOT NULL CHECK (length(id) = 64),
    name        TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    parent_id   TEXT,
    manifest    TEXT    NOT NULL,
    provenance  TEXT    NOT NULL CHECK (provenance IN ('authored', 'generated', 'crystallized')),
    status      TEXT    NOT NULL CHECK (status IN ('draft', 'published', 'retired')),
    kpis        TEXT    NOT NULL DEFAULT '{}',
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (tenant, name, version)
);

INSERT INTO skill_versions_v3
    (tenant, id, name, version, parent_id, manifest, provenance, status, kpis, created_at)
SELECT tenant, id, name, version, parent_id, manifest, provenance, status, kpis, created_at
FROM skill_versions;

DROP TABLE skill_versions;
ALTER TABLE skill_versions_v3 RENAME TO skill_versions;
CREATE INDEX skill_versions_by_id ON skill_versions (tenant, id);

-- A tenant's overrides of the host limits (src/limits.rs), as JSON.
ALTER TABLE tenants ADD COLUMN limits TEXT NOT NULL DEFAULT '{}';
