CREATE TABLE p1 (a integer);
CREATE TABLE p2 (a integer);
CREATE TABLE c (a integer) INHERITS (p1);
