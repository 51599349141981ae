CREATE TABLE ev (id integer, at date);
