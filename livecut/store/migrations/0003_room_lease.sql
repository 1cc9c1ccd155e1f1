-- Which ingest worker owns a pull room, and until when (Unix time); see MetadataStore.acquire_room.
ALTER TABLE rooms ADD COLUMN lease_owner TEXT;
ALTER TABLE rooms ADD COLUMN lease_until DOUBLE PRECISION;
