-- Campaigns as data. The definition (segment, templates, rules) is validated by ciclo before it is stored.

CREATE TABLE campaigns (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key           text NOT NULL UNIQUE,      -- stable slug from the campaign file
    name          text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('recurring', 'trigger', 'experience', 'adhoc')),
    channel       text NOT NULL,
    status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused', 'archived')),
    priority      smallint NOT NULL DEFAULT 0,
    starts_at     timestamptz,
    ends_at       timestamptz,
    holdout_share numeric(5, 4) NOT NULL DEFAULT 0 CHECK (holdout_share >= 0 AND holdout_share < 1),
    stage         text,                      -- the lifecycle stage whose objective it serves
    definition    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT campaigns_window CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at)
);
