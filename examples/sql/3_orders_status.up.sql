-- A migration written the way that locks production: see `migproof lint examples/sql`.
ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';
CREATE INDEX orders_status_idx ON orders (status);
ALTER TABLE orders ALTER COLUMN total TYPE numeric(14, 2);
