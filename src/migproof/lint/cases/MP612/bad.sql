ALTER TYPE order_status ADD VALUE 'refunded';  -- expect: MP612
