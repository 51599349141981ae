DROP DATABASE analytics;  -- expect: MP405
