-- Per-tenant quotas (src/quota.rs), as JSON like `limits`.
ALTER TABLE tenants ADD COLUMN quotas TEXT NOT NULL DEFAULT '{}';

-- Use counted against the windowed quotas: `calls` per UTC minute, `fuel`
-- and `generations` per UTC day. One row per tenant, kind and window;
-- rows of past windows are pruned.
CREATE TABLE quota_usage (
    tenant       TEXT   NOT NULL,
    kind         TEXT   NOT NULL CHECK (kind IN ('calls', 'fuel', 'generations')),
    window_start BIGINT NOT NULL,
    used         BIGINT NOT NULL CHECK (used >= 0),
    PRIMARY KEY (tenant, kind, window_start)
);

-- Skill calls running, for the concurrent-calls quota across replicas: a
-- row per call, deleted when it ends. A replica killed mid-call leaves its
-- rows behind; they stop counting at `expires_ms` (the call's deadline).
CREATE TABLE call_slots (
    tenant     TEXT   NOT NULL,
    id         TEXT   NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);

-- Named leases with an expiry: one holder at a time across processes and
-- replicas (a tenant's practice worker), taken over once expired.
CREATE TABLE leases (
    name       TEXT   NOT NULL PRIMARY KEY,
    holder     TEXT   NOT NULL,
    expires_ms BIGINT NOT NULL
);
