CREATE TABLE ev (id integer, at date) PARTITION BY RANGE (at);
