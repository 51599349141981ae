CREATE TABLE release_identity (  -- expect: MP508
    id bigint PRIMARY KEY,
    discogs_master_release_identifier_for_reconciliation_with_musicbrainz text
);
