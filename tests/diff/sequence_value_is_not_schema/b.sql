CREATE SEQUENCE s;
SELECT nextval('s');
