-- Media packets ingest skipped as corrupt (the recording went on without them); see IngestSession.
ALTER TABLE rooms ADD COLUMN skipped_packets INTEGER NOT NULL DEFAULT 0;
