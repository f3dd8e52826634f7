-- Demo data until `ciclo customers import` and `ciclo campaign apply` exist (the campaigns issue): customers in
-- three locales and two business models, consent, one campaign with versioned pt/it/en templates, and one send
-- per customer enqueued the way the scheduler will (send_keys first, then send_jobs, one statement each).
-- psql variable :customers sets the population size.

INSERT INTO customers (external_id, email, phone, locale, timezone, stage, persona, attributes)
SELECT 'demo-' || g,
       'customer' || g || '@demo.example',
       '+3519' || lpad((10000000 + g)::text, 8, '0'),
       (ARRAY['pt', 'it', 'en'])[1 + g % 3],
       (ARRAY['Europe/Lisbon', 'Europe/Rome', 'Europe/London'])[1 + g % 3],
       (ARRAY['New', 'Active', 'At-risk', 'Churned', 'Reactivated', 'Nurture', 'Convert'])[1 + g % 7],
       (ARRAY['b2c-bargain-hunter', 'b2c-loyal', 'b2b-buyer'])[1 + g % 3],
       jsonb_build_object('first_name', (ARRAY['Ana', 'Giulia', 'Tom', 'João', 'Marco', 'Emma'])[1 + g % 6],
                          'tier', (ARRAY['gold', 'silver', 'bronze'])[1 + g % 3])
FROM generate_series(1, :customers) g
ON CONFLICT (external_id) DO NOTHING;

-- Email consent for nine in ten; the rest show up as suppressed (no_consent) in deliveries.
INSERT INTO consents (customer_id, channel, granted, source)
SELECT id, 'email', substr(external_id, 6)::int % 10 <> 0, 'demo'
FROM customers WHERE external_id LIKE 'demo-%'
ON CONFLICT DO NOTHING;

INSERT INTO campaigns (key, name, kind, channel, status, stage, definition)
VALUES ('summer-offer', 'Summer offer', 'adhoc', 'email', 'active', 'Active',
        '{"delivery": {"email": {"from": "Loja Ciclo <ofertas@demo.example>"}}}')
ON CONFLICT (key) DO NOTHING;

INSERT INTO message_templates (campaign_id, variant, version, locale, channel, persona, stage, parts, variables)
SELECT c.id, 'A', 1, t.locale, 'email', 'b2c-bargain-hunter', 'Active', t.parts,
       '[{"name": "customer.first_name", "default": "cliente"}, {"name": "offer_code"},
         {"name": "send.unsubscribe_url"}]'::jsonb
FROM campaigns c,
     (VALUES
        ('pt', '{"subject": "{{customer.first_name}}, a sua oferta de verão chegou ☀️",
                 "html": "<p>Olá {{customer.first_name}},</p><p>Use o código <b>{{offer_code}}</b> e poupe até 50%.</p><p><a href=\"{{send.unsubscribe_url}}\">Cancelar subscrição</a></p>"}'::jsonb),
        ('it', '{"subject": "{{customer.first_name}}, perché aspettare? Offerta d''estate",
                 "html": "<p>Ciao {{customer.first_name}},</p><p>Usa il codice <b>{{offer_code}}</b>: fino al 50% di sconto.</p><p><a href=\"{{send.unsubscribe_url}}\">Annulla iscrizione</a></p>"}'::jsonb),
        ('en', '{"subject": "{{customer.first_name}}, your summer offer is here",
                 "html": "<p>Hi {{customer.first_name}},</p><p>Use code <b>{{offer_code}}</b> to save up to 50%.</p><p><a href=\"{{send.unsubscribe_url}}\">Unsubscribe</a></p>"}'::jsonb)
     ) AS t(locale, parts)
WHERE c.key = 'summer-offer'
ON CONFLICT DO NOTHING;

WITH keys AS (
    INSERT INTO send_keys (idempotency_key)
    SELECT 'summer-offer:' || c.id FROM customers c WHERE c.external_id LIKE 'demo-%'
    ON CONFLICT DO NOTHING
    RETURNING idempotency_key
)
INSERT INTO send_jobs (idempotency_key, campaign_id, customer_id, channel, payload)
SELECT k.idempotency_key, (SELECT id FROM campaigns WHERE key = 'summer-offer'),
       split_part(k.idempotency_key, ':', 2)::int8, 'email',
       jsonb_build_object('variant', 'A', 'variables', jsonb_build_object('offer_code', 'VERAO25'))
FROM keys k;
