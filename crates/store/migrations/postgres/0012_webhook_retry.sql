-- Issue 4: the webhook delivery log says when the next attempt is due (NULL: none follows), and is
-- read per takedown for its detail page and API answer. Never edit once committed.

ALTER TABLE webhook_deliveries ADD COLUMN next_retry_at TIMESTAMPTZ;
CREATE INDEX webhook_deliveries_takedown ON webhook_deliveries (takedown_id, attempt);
