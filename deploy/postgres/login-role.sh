#!/bin/sh
# Run by the postgres image on its first start only (from /docker-entrypoint-initdb.d): the
# login role the server connects as, customer_service. It is only a member of
# customer_service_app, whose grants `migrate up` sets: not the tables' owner, no superuser,
# no BYPASSRLS, so row-level security applies to it (`serve` refuses a role that bypasses
# it). The migration creates customer_service_app as well, when missing; it is created here
# first so that the login role can join it.
: "${APP_DB_PASSWORD:?set APP_DB_PASSWORD: the password of the server's login role}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE customer_service_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
CREATE ROLE customer_service LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
  PASSWORD :'app_password' IN ROLE customer_service_app;
SQL
