-- Message content, versioned per campaign and variant. A new version is a new row: sends already rendered keep
-- pointing at what they used, and "what did this customer see" stays answerable.

CREATE TABLE message_templates (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    variant     text NOT NULL,
    version     integer NOT NULL CHECK (version > 0),
    locale      text NOT NULL DEFAULT 'en',
    channel     text NOT NULL,
    -- The persona and lifecycle stage this content was written for, kept beside it for reporting and review.
    persona     text,
    stage       text,
    -- Part name to Mustache source: subject/html/text for email, body for SMS, title/body/deep_link for push,
    -- body for webhooks.
    parts       jsonb NOT NULL CHECK (jsonb_typeof(parts) = 'object'),
    -- [{"name": ..., "default": ...}]: every variable a part uses is declared; a missing one without a default
    -- suppresses the send (render_failed).
    variables   jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(variables) = 'array'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, variant, locale, version)
);

-- Workers load the newest version of a campaign's variant in a locale.
CREATE INDEX message_templates_latest ON message_templates (campaign_id, variant, locale, version DESC);
