CREATE DOMAIN positive_amount AS numeric;
CREATE TABLE payments (id bigint PRIMARY KEY, amount positive_amount);
