DROP TABLE saved_segments;
