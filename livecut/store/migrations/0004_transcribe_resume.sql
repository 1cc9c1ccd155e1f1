-- Media time from which a transcribe worker taking a room over must replay its fragments
-- (the earliest audio its predecessor still held in open state); see TranscribeWorker.
ALTER TABLE rooms ADD COLUMN resume_from DOUBLE PRECISION;
