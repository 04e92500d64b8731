-- Tenants and their API keys. Only the sha256 of a key is stored; the key
-- itself is shown once, when the tenant is created.
CREATE TABLE tenants (
    name        TEXT NOT NULL PRIMARY KEY,
    key_sha256  TEXT NOT NULL UNIQUE CHECK (length(key_sha256) = 64),
    created_at  TEXT NOT NULL
);
