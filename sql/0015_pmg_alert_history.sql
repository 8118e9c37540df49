-- 0015_pmg_alert_history.sql: what the Mail Gateway alert checks need from earlier polls
-- (alerts-notifications.md §3.8), kept here rather than in a worker's memory so that any
-- worker can evaluate the next poll. Both tables stay small: the worker that writes a sample
-- deletes what fell out of the window in the same transaction.

-- Quarantine sizes for the growth check: at most one sample per 5 minutes, kept 3 hours; the
-- check compares with the sample nearest to 2 hours ago (within 15 minutes).
CREATE TABLE pulse.pmg_quarantine_samples (
    instance_id  text NOT NULL REFERENCES pulse.instances (id) ON DELETE CASCADE,
    taken_at     timestamptz NOT NULL,
    spam         bigint NOT NULL CHECK (spam >= 0),
    virus        bigint NOT NULL CHECK (virus >= 0),
    PRIMARY KEY (instance_id, taken_at)
);

-- Hourly mail counts for the rate anomaly check: one row per completed hour of
-- /statistics/mailcount (hour_start is the point's time), the newest 48 kept. A gap of more
-- than 90 minutes between two hours starts the series again.
CREATE TABLE pulse.pmg_mail_samples (
    instance_id  text NOT NULL REFERENCES pulse.instances (id) ON DELETE CASCADE,
    hour_start   timestamptz NOT NULL,
    spam_in      double precision NOT NULL,
    spam_out     double precision NOT NULL,
    virus_in     double precision NOT NULL,
    virus_out    double precision NOT NULL,
    PRIMARY KEY (instance_id, hour_start)
);

COMMENT ON TABLE pulse.pmg_quarantine_samples IS 'PMG quarantine sizes of the last 3 hours, for the quarantine growth alerts.';
COMMENT ON TABLE pulse.pmg_mail_samples IS 'PMG hourly spam/virus counts (newest 48 hours), for the mail-rate anomaly alerts.';
