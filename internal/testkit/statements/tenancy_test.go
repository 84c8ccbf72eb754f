package statements

import "testing"

func TestMissingOrganization(t *testing.T) {
	for _, tc := range []struct {
		sql string
		ok  bool
	}{
		{"BEGIN READ ONLY", true},
		{"SELECT set_config('app.current_organization_id', $1, true)", true},
		{"SELECT job, slot FROM job_runs WHERE job = $1", true},
		{"SELECT name FROM bun_migrations", true},
		{`SELECT "c"."customer_id" FROM "customers" AS "c" WHERE ("c"."customer_id" = 'x') AND ("c"."organization_id" = 'o')`, true},
		{`SELECT "c"."customer_id" FROM "customers" AS "c" WHERE ("c"."customer_id" = 'x')`, false},
		{"SELECT * FROM customers WHERE organization_id = $1 AND customer_id = $2", true},
		{"SELECT * FROM customers WHERE customer_id = $2", false},
		{"SELECT c.x, (SELECT 1 FROM addresses AS a WHERE a.customer_id = c.customer_id) FROM customers AS c WHERE c.organization_id = $1", false},
		{"SELECT c.x, (SELECT 1 FROM addresses AS a WHERE a.organization_id = c.organization_id AND a.customer_id = c.customer_id) FROM customers AS c WHERE c.organization_id = $1", true},
		{"SELECT 1 FROM customers c LEFT JOIN loyalty_accounts la ON la.customer_id = c.customer_id WHERE c.organization_id = $1", false},
		{`INSERT INTO "audit_log" AS "audit_log" ("organization_id", "actor_id") VALUES ('o', 'a')`, true},
		{`INSERT INTO audit_log (actor_id) VALUES ('a')`, false},
		{`UPDATE "purchases" AS "p" SET "refunded_amount" = 1 WHERE ("p"."purchase_id" = 'x')`, false},
		{"SELECT 1 FROM customers c JOIN customer_segments s ON s.customer_id = c.customer_id WHERE cs.organization_id = $1 AND c.organization_id = $1", false},
		{`DELETE FROM customer_segments s WHERE s.organization_id = $1 AND s.customer_id = $2`, true},
	} {
		if got := MissingOrganization(tc.sql) == ""; got != tc.ok {
			t.Errorf("%s: ok %v, want %v (%s)", tc.sql, got, tc.ok, MissingOrganization(tc.sql))
		}
	}
}

// db.Org outside db.InOrg names the nil uuid: a statement that compares organization_id with
// it is reported (a nil customer id asked for is not).
func TestTenancy_ReportsTheNilOrganization(t *testing.T) {
	var tr Tenancy
	tr.sent(`SELECT 1 FROM "customers" AS "c" WHERE "c"."organization_id" = '00000000-0000-0000-0000-000000000000'`)
	tr.sent(`UPDATE customers AS c SET x = 1 WHERE c.organization_id = '00000000-0000-0000-0000-000000000000' AND c.customer_id = 'y'`)
	tr.sent(`SELECT 1 FROM customers AS c WHERE c.organization_id = 'a1' AND c.customer_id = '00000000-0000-0000-0000-000000000000'`)
	tr.sent(`SELECT 1 FROM customers AS c WHERE c.organization_id = $1`)
	if got := tr.Missing(); len(got) != 2 {
		t.Fatalf("reported %d statements, want the two with the nil organization: %q", len(got), got)
	}
}
