CREATE TABLE measurements (id bigint, taken date) PARTITION BY RANGE (taken);
CREATE TABLE measurements_2020 PARTITION OF measurements FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
