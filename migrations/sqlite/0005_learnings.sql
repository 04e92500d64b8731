-- The learnings log: every attempt, candidate, failure, discovered edge case,
-- repair and publish/draft decision, append-only and hash-chained. Each
-- entry's hash covers its content and the previous entry's hash, so an edit
-- or a deletion anywhere breaks the chain from there on
-- (`autolearn audit verify` names the first broken entry).
CREATE TABLE learnings (
    seq         INTEGER NOT NULL PRIMARY KEY CHECK (seq >= 1),
    tenant      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    prev_hash   TEXT    NOT NULL CHECK (length(prev_hash) = 64),
    hash        TEXT    NOT NULL CHECK (length(hash) = 64)
);

CREATE INDEX learnings_by_tenant ON learnings (tenant, seq);
