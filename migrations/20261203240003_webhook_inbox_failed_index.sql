-- `portal_webhook_inbox_failed` counts the deliveries set aside at every
-- scrape without reading the applied ones.
create index webhook_deliveries_failed on webhook_deliveries (id) where state = 'failed';
