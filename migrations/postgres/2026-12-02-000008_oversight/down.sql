DROP TABLE audit_log;
DROP INDEX events_type_at;
DROP TABLE recall_acknowledgements;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE cases;
DROP TABLE reinstatement_requests;
DROP TABLE sanctions;
