CREATE SCHEMA invoicing;
