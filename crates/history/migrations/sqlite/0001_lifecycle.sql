-- Remediation lifecycles (stance_core::lifecycle): one row per (subject, finding identity),
-- its changes in finding_events. Times are Unix seconds (UTC); booleans 0/1. The PostgreSQL
-- migration of the same version creates the same tables and columns.

-- Applications and assets, per cluster.
CREATE TABLE subjects (
    id INTEGER PRIMARY KEY,
    cluster TEXT NOT NULL,
    kind TEXT NOT NULL,            -- app | asset
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (cluster, kind, namespace, name)
);

CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    subject BIGINT NOT NULL REFERENCES subjects (id),
    kind TEXT NOT NULL,            -- vulnerability | misconfiguration | secret | sast | dast | policy
    finding_id TEXT NOT NULL,      -- CVE-…, KSV001, rule id
    what TEXT NOT NULL,            -- package short name, fingerprint / location, object
    first_seen BIGINT NOT NULL,
    opened BIGINT NOT NULL,        -- start of the current open period
    fixed BIGINT,                  -- NULL while open
    cycle BIGINT NOT NULL,
    revision BIGINT NOT NULL,      -- the highest revision written wins (failover-safe)
    severity TEXT NOT NULL,
    known_exploited BIGINT NOT NULL,
    kev_due TEXT,                  -- YYYY-MM-DD
    risk BIGINT NOT NULL,
    internet BIGINT NOT NULL,
    hidden BIGINT NOT NULL,
    UNIQUE (subject, kind, finding_id, what)
);
CREATE INDEX findings_fixed ON findings (fixed);

-- Every recorded change, once: (finding, revision) is unique.
CREATE TABLE finding_events (
    finding BIGINT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    revision BIGINT NOT NULL,
    event TEXT NOT NULL,           -- new | fixed | reopened | changed
    at BIGINT NOT NULL,
    severity TEXT NOT NULL,
    known_exploited BIGINT NOT NULL,
    risk BIGINT NOT NULL,
    hidden BIGINT NOT NULL,
    PRIMARY KEY (finding, revision)
);
CREATE INDEX finding_events_at ON finding_events (at);
