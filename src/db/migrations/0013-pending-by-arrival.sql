-- The processing lag is the age of the oldest pending bundle by received_at (monitoring/
-- processing-lag.ts): spooled uploads are inserted late, with high ids, so bundles_pending (by id)
-- cannot find it. With this index min(received_at) of the pending bundles is one index probe,
-- however large the backlog; /metrics reads it at every scrape.
CREATE INDEX bundles_pending_received ON bundles (received_at) WHERE status = 'pending';
