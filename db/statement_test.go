package db

import "testing"

func TestStatementKind_IsTheFirstKeyword(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT 1":                                    KindSelect,
		"select set_config('a', $1, true)":            KindSelect,
		"  \n\tSELECT x FROM y":                       KindSelect,
		"(SELECT 1) UNION (SELECT 2)":                 KindSelect,
		`INSERT INTO "customers" ("id") VALUES ('x')`: KindInsert,
		"UPDATE customers SET x = 1":                  KindUpdate,
		"DELETE FROM addresses":                       KindDelete,
		"WITH t AS (SELECT 1) SELECT * FROM t":        KindWith,
		"begin":                                       KindBegin,
		"BEGIN READ ONLY":                             KindBegin,
		"commit":                                      KindCommit,
		"rollback":                                    KindRollback,
		"SAVEPOINT sp1":                               KindOther,
		"SELECTED":                                    KindOther,
		"SEL":                                         KindOther,
		"":                                            KindOther,
		"-- a comment\nSELECT 1":                      KindOther,
	} {
		if got := StatementKind(sql); got != want {
			t.Errorf("StatementKind(%q) = %s, want %s", sql, got, want)
		}
	}
}

func TestStatementKind_DoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { StatementKind("  select * from customers") }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
