package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"customerservice/db"
	"customerservice/internal/testkit/testdb"
)

// §7: serve refuses a login role that is, or can become (SET ROLE, through any chain of
// memberships, with or without INHERIT), a superuser, a role with BYPASSRLS or the tables'
// owner; the error names the chain. The owner here owns a table of a scratch schema, the
// connections' current schema (search_path), as public is the server's.
func TestCheckRole_RefusesEveryRoleThatCanBecomeUnsafe(t *testing.T) {
	tdb := testdb.Get(t)
	ctx := context.Background()
	super := testdb.Open(t, tdb.OwnerURL)
	for _, stmt := range []string{
		"CREATE ROLE chain_super LOGIN SUPERUSER PASSWORD 'x'",
		"CREATE ROLE chain_bypass LOGIN NOSUPERUSER BYPASSRLS PASSWORD 'x'",
		"CREATE ROLE chain_owner LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'x'",
		"CREATE ROLE chain_superrole NOLOGIN SUPERUSER",
		"CREATE ROLE chain_mid NOLOGIN NOSUPERUSER NOBYPASSRLS",
		"CREATE ROLE chain_owner_mid NOLOGIN NOSUPERUSER NOBYPASSRLS",
		// customer_service_definer is the migrations' BYPASSRLS role behind search.
		"CREATE ROLE chain_definer_member LOGIN INHERIT NOSUPERUSER NOBYPASSRLS PASSWORD 'x' IN ROLE customer_service_app, customer_service_definer",
		"CREATE ROLE chain_definer_noinherit LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD 'x' IN ROLE customer_service_app, customer_service_definer",
		"CREATE ROLE chain_two_levels LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'x' IN ROLE customer_service_app, chain_mid",
		"GRANT customer_service_definer TO chain_mid",
		"CREATE ROLE chain_superrole_member LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'x' IN ROLE chain_superrole",
		"CREATE ROLE chain_owner_member LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD 'x' IN ROLE chain_owner_mid",
		"GRANT chain_owner TO chain_owner_mid",
		"CREATE ROLE chain_clean LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'x' IN ROLE customer_service_app",
		"CREATE SCHEMA chain_owned AUTHORIZATION chain_owner",
		"GRANT USAGE ON SCHEMA chain_owned TO PUBLIC",
		"CREATE TABLE chain_owned.accounts (id int)",
		"ALTER TABLE chain_owned.accounts OWNER TO chain_owner",
	} {
		if _, err := super.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	as := func(role string) *db.Pool {
		return testdb.Open(t, fmt.Sprintf("postgres://%s:x@127.0.0.1:%d/%s?sslmode=disable&search_path=chain_owned,public", role, tdb.Cluster.Port, tdb.Name))
	}

	// The hole the check closes: a member of the BYPASSRLS role, even without INHERIT,
	// becomes it with SET ROLE and then sees every organization.
	conn, err := as("chain_definer_noinherit").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SET ROLE customer_service_definer"); err != nil {
		t.Fatalf("a NOINHERIT member cannot SET ROLE to the BYPASSRLS role (the test's premise): %v", err)
	}
	_ = conn.Close()

	for role, want := range map[string]string{
		"chain_super":             `database role "chain_super" is a superuser: `,
		"chain_bypass":            `database role "chain_bypass" has BYPASSRLS: `,
		"chain_owner":             `database role "chain_owner" owns the tables (table accounts is owned by "chain_owner"`,
		"chain_definer_member":    `database role "chain_definer_member" is a member of "customer_service_definer", which has BYPASSRLS: `,
		"chain_definer_noinherit": `database role "chain_definer_noinherit" is a member of "customer_service_definer", which has BYPASSRLS: `,
		"chain_two_levels":        `database role "chain_two_levels" is a member of "chain_mid", which is a member of "customer_service_definer", which has BYPASSRLS: `,
		"chain_superrole_member":  `database role "chain_superrole_member" is a member of "chain_superrole", which is a superuser: `,
		"chain_owner_member":      `database role "chain_owner_member" is a member of "chain_owner_mid", which is a member of "chain_owner", which owns the tables (table accounts): `,
	} {
		err := db.CheckRole(ctx, as(role))
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "member of customer_service_app") ||
			!strings.Contains(err.Error(), "--allow-unsafe-role") {
			t.Errorf("%s:\n got %v\nwant an error starting %s that says what to do", role, err, want)
		}
	}
	if err := db.CheckRole(ctx, as("chain_clean")); err != nil {
		t.Errorf("a member of customer_service_app and nothing else is refused: %v", err)
	}
	if err := db.CheckRole(ctx, testdb.Open(t, tdb.AppURL)); err != nil {
		t.Errorf("the server's login role is refused: %v", err)
	}

	// The replica's role is checked the same way, and the error says it is the replica's.
	h := db.NewHandle(as("chain_clean"), as("chain_two_levels"))
	if err := h.EachPool(ctx, db.CheckRole); err == nil ||
		!strings.HasPrefix(err.Error(), `read replica (DATABASE_REPLICA_URL): database role "chain_two_levels" is a member of "chain_mid"`) {
		t.Errorf("replica as a member of a BYPASSRLS role: %v", err)
	}
}
