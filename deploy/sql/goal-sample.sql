-- goal-sample.sql - the shape of the goal table that `duckmig publish`
-- reads with its default GOAL_QUERY:
--   SELECT tracker_id::text, site_id::text FROM goal ORDER BY tracker_id
-- The real goal table is the company's; only these two columns matter.
-- The tests load this file and add rows; GOAL_QUERY adapts the publisher
-- to another schema (it must return tracker id, then site).
CREATE TABLE IF NOT EXISTS goal (
    tracker_id bigint PRIMARY KEY,
    site_id    integer NOT NULL,
    name       text
);
