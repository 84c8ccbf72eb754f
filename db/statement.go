package db

// The kinds of statement StatementKind tells apart: the first keyword of the SQL, as metrics
// and trace spans name statements (never by their text, which bun fills with values).
const (
	KindSelect   = "SELECT"
	KindInsert   = "INSERT"
	KindUpdate   = "UPDATE"
	KindDelete   = "DELETE"
	KindWith     = "WITH"
	KindBegin    = "BEGIN"
	KindCommit   = "COMMIT"
	KindRollback = "ROLLBACK"
	KindOther    = "OTHER"
)

var kinds = [...]string{KindSelect, KindInsert, KindUpdate, KindDelete, KindWith, KindBegin, KindCommit, KindRollback}

// StatementKind is the first keyword of sql, one of the Kind constants (KindOther for any
// other), found without allocating: it runs for every statement the server sends.
func StatementKind(sql string) string {
	i := 0
	for i < len(sql) && (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t' || sql[i] == '\r' || sql[i] == '(') {
		i++
	}
	j := i
	for j < len(sql) && (sql[j]|0x20 >= 'a' && sql[j]|0x20 <= 'z') {
		j++
	}
	word := sql[i:j]
	for _, k := range kinds {
		if len(word) == len(k) && equalFoldASCII(word, k) {
			return k
		}
	}
	return KindOther
}

// equalFoldASCII reports whether the letters a and b (of one length) are equal ignoring case.
func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		if a[i]|0x20 != b[i]|0x20 {
			return false
		}
	}
	return true
}
