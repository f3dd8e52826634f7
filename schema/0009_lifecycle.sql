-- Lifecycle stages as data: the stages a deployment defines and the objective each is judged by, the rules that
-- move customers between them, lead scoring, and the log of every move (the reporter's cohorts read it).
-- `ciclo config apply FILE` replaces the stages, rules and scoring with a file's content; the scheduler applies
-- the rules on every tick (CicloScheduler/LifecycleRules.swift).

-- A stage belongs to a model (b2b, b2c, or a deployment's own) at a position in it; keys are unique across models
-- because customers.stage and campaigns.stage name a stage by its key alone. customers.stage has no foreign key:
-- imports may carry stages before they are configured, and `config apply` refuses to drop a stage in use instead.
CREATE TABLE lifecycle_stages (
    key         text PRIMARY KEY,
    model       text NOT NULL,
    position    integer NOT NULL CHECK (position > 0),
    name        text NOT NULL,             -- for people: "At-risk"
    kpi         text NOT NULL,             -- the objective: the KPI the stage is judged by...
    target      numeric NOT NULL,          -- ...and its target (a count, or a rate such as 0.05)
    description text,
    UNIQUE (model, position)
);

-- Transition rules, applied in position order on every tick; one customer moves at most once per tick.
-- from_stage NULL means any stage of to_stage's model, or none. Exactly one trigger:
--   event:      a customer's event of event_kind (whose payload passes event_filter, the payload filter language's
--               JSON, never SQL) that occurred after the customer entered its current stage;
--   inactivity: no activity (events, last_seen_at) for inactive_days days;
--   score:      a lead score of at least min_score.
CREATE TABLE lifecycle_transition_rules (
    position      integer PRIMARY KEY CHECK (position > 0),
    name          text NOT NULL UNIQUE,    -- recorded with every move it makes
    from_stage    text REFERENCES lifecycle_stages (key),
    to_stage      text NOT NULL REFERENCES lifecycle_stages (key),
    trigger       text NOT NULL CHECK (trigger IN ('event', 'inactivity', 'score')),
    event_kind    text,
    event_filter  jsonb,
    inactive_days integer CHECK (inactive_days > 0),
    min_score     numeric,
    CONSTRAINT lifecycle_rule_moves CHECK (from_stage IS DISTINCT FROM to_stage),
    CONSTRAINT lifecycle_rule_trigger CHECK (
        (trigger = 'event') = (event_kind IS NOT NULL) AND
        (trigger = 'event' OR event_filter IS NULL) AND
        (trigger = 'inactivity') = (inactive_days IS NOT NULL) AND
        (trigger = 'score') = (min_score IS NOT NULL))
);

-- Lead scoring: points per event kind (negative points allowed: an unsubscribe), decaying with the half-life kept
-- in settings 'lead_scoring' ({"half_life_days": 30, "thresholds": {"mql": 50, "sql": 100}}).
CREATE TABLE lead_score_points (
    event_kind text PRIMARY KEY,
    points     numeric NOT NULL CHECK (points <> 0)
);

-- The customer's score as of last_scored_at, the status its thresholds give, and when the stage last changed
-- (event rules only count events after it). A constant default makes these ADD COLUMNs instant.
ALTER TABLE customers
    ADD COLUMN lead_score       numeric NOT NULL DEFAULT 0,
    ADD COLUMN lead_status      text CHECK (lead_status IN ('mql', 'sql')),
    ADD COLUMN stage_changed_at timestamptz,
    ADD COLUMN last_scored_at   timestamptz;

-- Inactivity rules find the customers of a stage last seen before a cutoff as one range of this index, not by
-- reading the whole stage. last_seen_at changes only with a customer's new events, so the index costs little.
CREATE INDEX customers_stage_seen ON customers (stage, last_seen_at);

-- Every move: who, from where to where, by which rule, at the scheduler's (possibly simulated) clock. Append-only;
-- no foreign keys to stages, so history outlives a stage's removal.
CREATE TABLE stage_transitions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    from_stage  text,
    to_stage    text NOT NULL,
    rule        text NOT NULL,
    at          timestamptz NOT NULL
);
-- One customer's path through the stages.
CREATE INDEX stage_transitions_customer ON stage_transitions (customer_id, at);
-- Cohorts: who entered a stage in a period.
CREATE INDEX stage_transitions_cohort ON stage_transitions (to_stage, at);

-- Where the lifecycle pass is: the clock of the last tick, the newest events.received_at it has seen, the last
-- full decay refresh, and whether a configuration change asks for a full rescore or a full pass over the events.
-- One row, locked by every tick and by `config apply`, so they never interleave.
CREATE TABLE lifecycle_state (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    applied_at     timestamptz,
    received_mark  timestamptz,
    decayed_at     timestamptz,
    rescore_due    boolean NOT NULL DEFAULT true,
    full_pass_due  boolean NOT NULL DEFAULT true
);
INSERT INTO lifecycle_state DEFAULT VALUES;

-- A tick reads only the events that are new since the last one: those received since (a range on received_at) and
-- those whose time has come since (a range on occurred_at, for simulations and events stored ahead of time).
-- Events arrive roughly in time order, so block-range indexes serve both ranges at a tiny fraction of a btree's
-- size and insert cost.
CREATE INDEX events_received_brin ON events USING brin (received_at);
CREATE INDEX events_occurred_brin ON events USING brin (occurred_at);

-- The default stages. A deployment's own `ciclo config apply` replaces them.
INSERT INTO lifecycle_stages (key, model, position, name, kpi, target, description) VALUES
    ('attract', 'b2b', 1, 'Attract', 'visitors', 10000,
     'Anonymous visitors reached by content, search and ads.'),
    ('capture', 'b2b', 2, 'Capture', 'known_visitors', 2000,
     'Visitors who left an address: a form, a download, a sign-up.'),
    ('nurture', 'b2b', 3, 'Nurture', 'marketing_qualified_leads', 400,
     'Known contacts warmed by content until their lead score qualifies them.'),
    ('convert', 'b2b', 4, 'Convert', 'conversion_rate', 0.2,
     'Sales-qualified leads on their way to a first purchase.'),
    ('expand', 'b2b', 5, 'Expand', 'repeat_purchase_rate', 0.3,
     'Customers: repeat purchase, cross-sell and revenue from existing accounts.'),
    ('new', 'b2c', 1, 'New', 'activation_rate', 0.6,
     'Signed up recently; the first deposit or purchase is the goal.'),
    ('active', 'b2c', 2, 'Active', 'monthly_active_rate', 0.7,
     'Active in the last 30 days.'),
    ('at_risk', 'b2c', 3, 'At-risk', 'retention_rate', 0.5,
     'No activity for 30 days: win them back before they churn.'),
    ('churned', 'b2c', 4, 'Churned', 'reactivation_rate', 0.05,
     'No activity for 90 days.'),
    ('reactivated', 'b2c', 5, 'Reactivated', 'retention_rate', 0.4,
     'Came back after churning: keep them this time.');
