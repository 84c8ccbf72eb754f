DROP TABLE privacy_requests;
DROP TABLE privacy_settings;
