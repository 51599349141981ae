SET lock_timeout = '2s';
ALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0) NOT VALID;
ALTER DOMAIN positive_amount VALIDATE CONSTRAINT positive_amount_check;
