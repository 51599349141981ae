ALTER SCHEMA billing RENAME TO invoicing;  -- expect: MP409
