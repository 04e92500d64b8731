-- Skill versions, content-addressed. `manifest` is the canonical JSON whose
-- sha256 (with the domain prefix in src/skills/id.rs) must equal `id`; the
-- store checks it on every load. Every table carries `tenant` from day one.
CREATE TABLE skill_versions (
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
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, name, version)
);

CREATE INDEX skill_versions_by_name ON skill_versions (tenant, name, version DESC);
