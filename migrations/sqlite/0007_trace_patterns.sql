-- Automatic crystallization also keeps a pattern seen in several traces: a
-- computation too small to be a skill once, repeated often enough, is one.
-- Only a fingerprint of the code is kept, per tenant, pruned with traces.
CREATE TABLE trace_patterns (
    tenant      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    seen        INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (tenant, fingerprint)
);
