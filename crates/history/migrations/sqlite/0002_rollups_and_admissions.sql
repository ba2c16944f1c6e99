-- Daily roll-ups (trends without scanning every lifecycle), each cluster's last
-- observation, and the admission decisions audit trail.

-- One row per cluster, UTC day, subject (0 = the whole cluster) and severity.
CREATE TABLE daily_rollups (
    cluster TEXT NOT NULL,
    day BIGINT NOT NULL,           -- 00:00 UTC, Unix seconds
    subject BIGINT NOT NULL,
    severity TEXT NOT NULL,
    open BIGINT NOT NULL,
    overdue BIGINT NOT NULL,
    new BIGINT NOT NULL,
    reopened BIGINT NOT NULL,
    fixed BIGINT NOT NULL,
    fix_seconds BIGINT NOT NULL,
    PRIMARY KEY (cluster, subject, day, severity)
);
CREATE INDEX daily_rollups_day ON daily_rollups (day);

CREATE TABLE clusters (
    name TEXT PRIMARY KEY,
    observed BIGINT NOT NULL,      -- the last observation written
    writer TEXT NOT NULL           -- the replica that wrote it
);

-- Admission decisions (deny, warn, audit, excepted), one row per violation.
CREATE TABLE admission_decisions (
    cluster TEXT NOT NULL,
    at BIGINT NOT NULL,
    uid TEXT NOT NULL,             -- the AdmissionRequest uid
    seq BIGINT NOT NULL,           -- the violation's position in the verdict
    operation TEXT NOT NULL,
    username TEXT NOT NULL,
    workload TEXT NOT NULL,        -- Kind/namespace/name
    policy TEXT NOT NULL,
    rule TEXT NOT NULL,
    effect TEXT NOT NULL,          -- deny | warn | audit | excepted
    message TEXT NOT NULL,
    PRIMARY KEY (cluster, uid, seq)
);
CREATE INDEX admission_decisions_at ON admission_decisions (at);
