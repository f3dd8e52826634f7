-- Provider webhooks name a send by the provider's own message id more often than by Ciclo's idempotency key: the
-- reporter finds the delivery through this index instead of scanning deliveries.
CREATE INDEX deliveries_provider_message ON deliveries (provider_message_id) WHERE provider_message_id IS NOT NULL;
