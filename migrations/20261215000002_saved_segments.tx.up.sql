-- §12 saved segments: a named, versioned customer filter of an organization, evaluated live.
-- The filter is stored as the JSON document package savedsegments writes (with its version),
-- never as SQL, so a later change of the customer filter can still read it.
CREATE TABLE saved_segments (
  organization_id  uuid NOT NULL,
  saved_segment_id uuid NOT NULL DEFAULT gen_random_uuid(),
  name             varchar(100) NOT NULL CHECK (length(btrim(name)) > 0),
  description      varchar(1000),
  filter           jsonb NOT NULL CHECK (jsonb_typeof(filter) = 'object' AND jsonb_typeof(filter->'version') = 'number'),
  created_by       uuid NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT saved_segments_pkey PRIMARY KEY (organization_id, saved_segment_id),
  CONSTRAINT saved_segments_name_key UNIQUE (organization_id, name)
);
CREATE TRIGGER saved_segments_updated_at BEFORE UPDATE ON saved_segments
  FOR EACH ROW EXECUTE FUNCTION app_set_updated_at();

ALTER TABLE saved_segments ENABLE ROW LEVEL SECURITY;
ALTER TABLE saved_segments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON saved_segments
  USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
  WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON saved_segments TO customer_service_app;
