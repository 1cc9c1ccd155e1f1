-- Whether a fragment starts at a video keyframe. A live room also cuts fragments between
-- keyframes (stream.recorder, split_s); video is decoded from the keyframe fragment before them.
ALTER TABLE fragments ADD COLUMN keyframe INTEGER NOT NULL DEFAULT 1;
