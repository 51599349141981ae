ALTER TABLE orders ADD COLUMN note text;  -- expect: MP210
