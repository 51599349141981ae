CREATE TABLE doc (id integer, owner text);
ALTER TABLE doc ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON doc USING (true);
COMMENT ON POLICY mine ON doc IS 'all rows';
