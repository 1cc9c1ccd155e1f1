-- Events a stage gave up on after its retries, with the reason; kept for an operator to look at.
CREATE TABLE dead_letters (
    id TEXT PRIMARY KEY,
    stage TEXT NOT NULL,
    event_key TEXT NOT NULL,
    event_type TEXT NOT NULL,
    event TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX dead_letters_stage ON dead_letters (stage, created_at);
