-- Dependency edges: skill version `skill_id` imports the prerequisite named
-- `name` at version `requires_id`. The pins themselves live in the
-- manifest (and its hash); this table answers "what builds on X?".
CREATE TABLE skill_requires (
    tenant      TEXT NOT NULL,
    skill_id    TEXT NOT NULL CHECK (length(skill_id) = 64),
    name        TEXT NOT NULL,
    requires_id TEXT NOT NULL CHECK (length(requires_id) = 64),
    PRIMARY KEY (tenant, skill_id, name)
);
CREATE INDEX skill_requires_by_name ON skill_requires (tenant, name);
