CREATE TABLE doc (id integer, owner text);
ALTER TABLE doc ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON doc TO migproof_reader, migproof_writer USING (true);
