-- When a room or clip row last changed (Unix time): the API's event stream polls for rows
-- changed since its cursor, so it works whichever process made the change.
ALTER TABLE rooms ADD COLUMN updated_at DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE clips ADD COLUMN updated_at DOUBLE PRECISION NOT NULL DEFAULT 0;
UPDATE rooms SET updated_at = created_at;
UPDATE clips SET updated_at = created_at;
CREATE INDEX rooms_by_change ON rooms (updated_at);
CREATE INDEX clips_by_change ON clips (updated_at);

-- A clip's confidence as a column, so clips can be filtered by it (it is also in the record).
ALTER TABLE clips ADD COLUMN confidence DOUBLE PRECISION;

-- An utterance's word timings (JSON [[t0, t1, text], ...]): clip captions and highlighting
-- after a trim, and the words of any range an operator clips.
ALTER TABLE utterances ADD COLUMN words TEXT;
