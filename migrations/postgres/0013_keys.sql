-- API keys of their own: a tenant may hold several (a second one to rotate
-- without downtime, one per client), each with a public id, a label, an
-- optional expiry and when it was last used; revoking one deletes its row.
-- Only the sha256 of a key is stored. The key each tenant had so far becomes
-- its first key here, and `tenants` loses its key column.
CREATE TABLE tenant_keys (
    id           TEXT   NOT NULL PRIMARY KEY,
    tenant       TEXT   NOT NULL,
    key_sha256   TEXT   NOT NULL UNIQUE CHECK (length(key_sha256) = 64),
    label        TEXT   NOT NULL DEFAULT '',
    created_ms   BIGINT NOT NULL,
    expires_ms   BIGINT,
    last_used_ms BIGINT
);
CREATE INDEX tenant_keys_by_tenant ON tenant_keys (tenant);

INSERT INTO tenant_keys (id, tenant, key_sha256, label, created_ms)
SELECT 'key_' || substr(key_sha256, 1, 16), name, key_sha256, 'first',
       COALESCE((EXTRACT(EPOCH FROM created_at::timestamptz) * 1000)::BIGINT, 0)
FROM tenants;

ALTER TABLE tenants DROP COLUMN key_sha256;
