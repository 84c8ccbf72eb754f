-- §10: documents validated and stored canonical, and the stored rows that break today's
-- rules listed for a person to fix. No stored row is rewritten and no stored value can make
-- this migration fail: the new column starts NULL, the functions never raise, and every
-- index below is non-unique (two old rows that are one document spelled two ways do not
-- stop it; the service refuses a third).

-- The check digit (DV) of a RUC, kept apart from its number (§10: uniqueness and lookups
-- ignore it). Two digits.
ALTER TABLE customers ADD COLUMN document_check_digit varchar(2)
  CONSTRAINT customers_document_check_digit_check CHECK (document_check_digit IS NULL OR document_check_digit ~ '^[0-9]{2}$' AND document_type = 'ruc');

-- The canonical number of a document as package documents computes it (documents.Parse):
-- a cédula or RUC upper-cased with its spaces removed, a RUC's DV suffix dropped, book and
-- entry (and a legal person's first part) without leading zeros; anything else, or a
-- number no rule reads, upper-cased and trimmed. The graph test
-- TestDocuments_SQLCanonicalMatchesGo holds the two equal. Never raises.
CREATE FUNCTION app_document_canonical(doc_type text, num text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
  s text := upper(regexp_replace(num, '\s', '', 'g'));
  m text[];
BEGIN
  IF doc_type IN ('cedula', 'ruc') THEN
    IF doc_type = 'ruc' THEN
      s := regexp_replace(s, 'D\.?V\.?[0-9]{1,2}$', '');
    END IF;
    m := regexp_match(s, '^(PE|E|N|(?:1[0-3]|[1-9])(?:AV|PI)?)-([0-9]{1,4})-([0-9]{1,6})$');
    IF m IS NOT NULL THEN
      RETURN m[1] || '-' || m[2]::int::text || '-' || m[3]::int::text;
    END IF;
    IF doc_type = 'ruc' THEN
      m := regexp_match(s, '^([0-9]{1,10})-([0-9]{1,4})-([0-9]{1,6})$');
      IF m IS NOT NULL THEN
        RETURN m[1]::bigint::text || '-' || m[2]::int::text || '-' || m[3]::int::text;
      END IF;
    END IF;
  END IF;
  RETURN upper(btrim(num));
END
$$;

-- Under row-level security PostgreSQL uses an index condition on a function of the row only
-- when the function is LEAKPROOF (it cannot leak a row through an error); without it,
-- customerByDocument would read the organization's rows. The function never raises and has
-- no side effect; marking it takes a superuser, as the init migration's definer role does.
DO $$
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    ALTER FUNCTION app_document_canonical(text, text) LEAKPROOF;
  ELSE
    RAISE NOTICE 'not a superuser: lookups by document read the organization''s customers instead of their index';
  END IF;
END $$;

-- Whether a stored document breaks a rule of §10: a number that is not in its canonical
-- form (which the service stores), or that no rule of its type reads. A RUC's check digit
-- is verified when it is written; a stored one is in its own column.
CREATE FUNCTION app_document_issue(doc_type text, num text) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
  IF num IS NULL THEN
    RETURN false;
  END IF;
  IF num IS DISTINCT FROM app_document_canonical(doc_type, num) THEN
    RETURN true;
  END IF;
  RETURN CASE doc_type
    WHEN 'cedula' THEN num !~ '^(PE|E|N|(1[0-3]|[1-9])(AV|PI)?)-[0-9]{1,4}-[0-9]{1,6}$'
    WHEN 'ruc' THEN num !~ '^(PE|E|N|(1[0-3]|[1-9])(AV|PI)?)-[0-9]{1,4}-[0-9]{1,6}$'
                AND num !~ '^[0-9]{1,10}-[0-9]{1,4}-[0-9]{1,6}$'
    WHEN 'passport' THEN num !~ '^[A-Z0-9]{5,20}$'
    ELSE char_length(num) NOT BETWEEN 1 AND 50 OR num ~ '[[:cntrl:]]'
  END;
END
$$;

-- Whether a stored email breaks the email rule (§3): not trimmed and lower-case (the table's
-- CHECK already holds that), or not one local part, an @ and a domain of at least two dot-
-- separated labels. The service's rule (customers.NormalizeEmail) is stricter; every email
-- it accepts passes this.
CREATE FUNCTION app_email_issue(email text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT email IS NOT NULL AND email !~ '^[^[:space:]@]+@[^[:space:]@.]+(\.[^[:space:]@.]+)+$' $$;

-- Whether a stored phone is not in E.164 (§2). The table's CHECK holds this for every row
-- written since the first migration; the condition stays so the list covers every rule.
CREATE FUNCTION app_phone_issue(phone text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT phone IS NOT NULL AND phone !~ '^\+[1-9][0-9]{6,14}$' $$;

-- customerByDocument and the service's uniqueness check read the canonical number of the
-- stored rows, so an old row stored as 8-0123-004567 is found as 8-123-4567.
CREATE INDEX customers_document_canonical_idx ON customers
  (organization_id, document_type, app_document_canonical(document_type, document_number));

-- dataQualityIssues (§10): the rows breaking a rule, each kind its own partial index in the
-- list's default order (newest first), so a page reads index entries of broken rows only,
-- never the organization's other rows.
CREATE INDEX customers_document_issue_idx ON customers (organization_id, created_at, customer_id)
  WHERE app_document_issue(document_type, document_number);
CREATE INDEX customers_email_issue_idx ON customers (organization_id, created_at, customer_id)
  WHERE app_email_issue(email);
CREATE INDEX customers_phone_issue_idx ON customers (organization_id, created_at, customer_id)
  WHERE app_phone_issue(phone);
CREATE INDEX customers_data_issue_idx ON customers (organization_id, created_at, customer_id)
  WHERE app_document_issue(document_type, document_number) OR app_email_issue(email) OR app_phone_issue(phone);
