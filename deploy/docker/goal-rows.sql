-- the sample fleet's trackers (compose.yaml's sample-fleet service)
INSERT INTO goal (tracker_id, site_id, name) VALUES
    (9324670152232801, 51, 'sample'),
    (9324670152232802, 51, 'sample'),
    (9324670152232901, 52, 'sample');
