-- Provider throttling: each channel's provider accepts so many messages per second, across every worker on every
-- server together. A token bucket per provider: `ciclo config apply` sets per_second and burst (provider_limits in
-- the configuration file); workers take tokens with one UPDATE that first refills the bucket for the time elapsed
-- since refilled_at (CicloDelivery/ProviderThrottle.swift). A channel without a row is not limited.
CREATE TABLE provider_limits (
    provider    text PRIMARY KEY CHECK (provider IN ('email', 'sms', 'push', 'webhook')),
    per_second  double precision NOT NULL CHECK (per_second > 0),
    burst       double precision NOT NULL CHECK (burst >= 1),
    tokens      double precision NOT NULL CHECK (tokens >= 0),
    refilled_at timestamptz NOT NULL DEFAULT clock_timestamp()
) WITH (fillfactor = 50);  -- every grant rewrites the row: room on the page keeps those updates HOT

-- Workers read the limit and take tokens; `ciclo config apply` (the operator's, as the owner) writes the limits. The
-- scheduler reads the whole configuration on its ticks (LifecycleStore.load), this table included. The analyst reads
-- every table by the default privileges of 0015.
GRANT SELECT, UPDATE (tokens, refilled_at) ON provider_limits TO ciclo_worker;
GRANT SELECT ON provider_limits TO ciclo_scheduler;
