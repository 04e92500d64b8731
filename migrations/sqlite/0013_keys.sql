-- API keys of their own: a tenant may hold several (a second one to rotate
-- without downtime, one per client), each with a public id, a label, an
-- optional expiry and when it was last used; revoking one deletes its row.
-- Only the sha256 of a key is stored. The key each tenant had so far becomes
-- its first key here, and `tenants` loses its key column.
CREATE TABLE tenant_keys (
    id           TEXT    NOT NULL PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    key_sha256   TEXT    NOT NULL UNIQUE CHECK (length(key_sha256) = 64),
    label        TEXT    NOT NULL DEFAULT '',
    created_ms   INTEGER NOT NULL,
    expires_ms   INTEGER,
    last_used_ms INTEGER
);
CREATE INDEX tenant_keys_by_tenant ON tenant_keys (tenant);

INSERT INTO tenant_keys (id, tenant, key_sha256, label, created_ms)
SELECT 'key_' || substr(key_sha256, 1, 16), name, key_sha256, 'first',
       COALESCE(CAST(strftime('%s', created_at) AS INTEGER) * 1000, 0)
FROM tenants;

CREATE TABLE tenants_v13 (
    name        TEXT NOT NULL PRIMARY KEY,
    created_at  TEXT NOT NULL,
    limits      TEXT NOT NULL DEFAULT '{}',
    quotas      TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO tenants_v13 (name, created_at, limits, quotas)
SELECT name, created_at, limits, quotas FROM tenants;
DROP TABLE tenants;
ALTER TABLE tenants_v13 RENAME TO tenants;
