CREATE TABLE release_identity (
    id bigint PRIMARY KEY,
    discogs_master_id text
);
