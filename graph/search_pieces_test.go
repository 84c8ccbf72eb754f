package graph_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
	"customerservice/models"
)

// The search hands the trigram index only the term's selective pieces (the substrings of
// its words made of trigrams that are not common: customer_search_index_parts) and checks
// the whole term on the rows they find (migration 20261226000001). The pieces are computed
// from the term alone, whatever the list of common trigrams.
func TestSearchIndexParts_KeepsTheRunsOfUncommonTrigramsOfEachWord(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	common := []string{"use", "ser", "er9", "exa", "xam", "amp", "mpl", "ple", "com", "507", "076", "ana"}
	cases := []struct {
		term string
		want []string
	}{
		{"user952774@", []string{"r952774"}},            // use, ser, er9 common: from r95 on
		{"user952774@example.com", []string{"r952774"}}, // every trigram of example and com common
		{"952774", []string{"952774"}},                  // nothing common
		{"+50761234567", []string{"761234567"}},         // 507 and 076 common
		{"ana perez", []string{"perez"}},                // ana common; a word of its own
		{"banana", []string{"ban", "nan"}},              // ban, (ana), nan, (ana)
		{"usexuse", []string{"sexus"}},                  // use common at both ends
		{"ana", []string{}},                             // every trigram common
		{"user", []string{}},                            // use, ser
		{"ab", []string{}},                              // no trigram
		{"a-b_c%d", []string{}},                         // words of one character
		{`8\-12\%3x`, []string{}},                       // words shorter than three
		{`50\%off`, []string{"off"}},                    // LIKE's escapes are not letters
		{"r95 r95", []string{"r95", "r95"}},             // each word
		{"", []string{}},
	}
	for _, tc := range cases {
		var got []string
		err := srv.Owner.NewRaw("SELECT customer_search_index_parts(?, ?::text[])", tc.term, pgdialect.Array(common)).
			Scan(context.Background(), pgdialect.Array(&got))
		if err != nil {
			t.Fatalf("%q: %v", tc.term, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("pieces of %q: %q, want %q", tc.term, got, tc.want)
		}
	}
}

// The search answers what the whole term's LIKE answered before the pieces (the statement
// of 20261211000001): the same customers for every term — short ones, accents, LIKE's
// wildcards, e-mails, phones, documents, common and rare trigrams — with the statistic of
// common trigrams in place, and only the organization's.
func TestSearch_PiecesFindTheSameCustomersAsTheWholeTerm(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	ctx := context.Background()
	org, other := uuid.New(), uuid.New()
	// 1,000 customers shaped like the benchmark's in each of two organizations: userN@…,
	// +5076…, 8-N, ten first and ten last names with accents.
	for _, o := range []uuid.UUID{org, other} {
		_, err := srv.Owner.ExecContext(ctx, `INSERT INTO customers (organization_id, first_name, last_name, email, phone, document_type, document_number)
SELECT ?, (ARRAY['Ana','Luis','María','José','Carmen','Carlos','Lucía','Jorge','Sofía','Diego'])[1 + g % 10],
  (ARRAY['Pérez','González','Rodríguez','Castillo','Herrera','Vargas','Moreno','Ríos','Batista','Núñez'])[1 + (g / 10) % 10],
  'user' || g || '@example.com', '+5076' || lpad(g::text, 7, '0'), 'cedula', '8-' || g
FROM generate_series(1, 1000) AS g`, o)
		if err != nil {
			t.Fatal(err)
		}
	}
	f := newListFixtures(t, srv, org)
	f.customer(models.Customer{FirstName: "Promo", LastName: "100%", Email: refTo("a_b@example.com")})
	f.customer(models.Customer{FirstName: "Back", LastName: `Sla\sh`, Email: refTo("axb@example.com")})
	f.customer(models.Customer{FirstName: "ÉMILE", LastName: "ÖZIL", Phone: refTo("+50769990000")})
	f.customer(models.Customer{FirstName: "Seán", LastName: "O'Brien", Email: refTo("sean.obrien@correo.pa")})
	if _, err := srv.Owner.ExecContext(ctx, "ANALYZE customers"); err != nil {
		t.Fatal(err)
	}
	escape := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace
	pieces := func(term string) []string {
		t.Helper()
		var got []string
		err := srv.Owner.NewRaw("SELECT customer_search_index_parts(app_unaccent(lower(?)), customer_search_common_trigrams())", escape(term)).
			Scan(ctx, pgdialect.Array(&got))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if !testdb.OnCitus() {
		// The statistic: `use` and `ser` (every e-mail here) are common, so `user123@` goes to
		// the index as its rarer piece; `ana` alone has no piece and goes whole.
		if got := pieces("user123@"); len(got) != 1 || !strings.HasSuffix("user123", got[0]) || strings.Contains(got[0], "use") {
			t.Fatalf("pieces of user123@: %q", got)
		}
		if got := pieces("user"); len(got) != 0 {
			t.Fatalf("pieces of user: %q", got)
		}
	}
	// On Citus the statistic is not read (the search runs as its caller, without the index):
	// the same answers, from the whole term.

	terms := []string{
		"user123@", "USER123@EXAMPLE.COM", "user1", "user12", "ser12", "r999@", "user1000@example.com", "user10001",
		"@example.com", "example", "xample.c", "com", "user", "use", "example.com +507",
		"ana", "Ana Pérez", "ana perez", "PÉREZ", "núñez", "NUNEZ", "josé núñez", "maria", "lucia rios", "carmen castillo", "sofia b",
		"8-12", "8-123", "-12", "8-", "+5076", "+50760000123", "50760000", "0000999", "6999", "0001000",
		"a", "e", "ez", "zz", "ñ", "ÉM", "ü", "a b", "  ana  ", "o'brien", "sean.o", "correo.pa",
		"%", "_", "100%", "a_b", "a%b", "_b@", `\`, `sla\sh`, `a\`, "%%%", "__",
		"nobody at all", "zzzzzz", "r1000", "er100",
	}
	var matched, whole, viaPieces int
	for _, term := range terms {
		var before []uuid.UUID
		err := srv.Owner.NewRaw(`SELECT customer_id FROM customers
			WHERE organization_id = ? AND search_text LIKE '%' || app_unaccent(lower(?)) || '%' ORDER BY 1`, org, escape(term)).Scan(ctx, &before)
		if err != nil {
			t.Fatal(err)
		}
		var now []uuid.UUID
		err = db.InOrg(ctx, srv.App, org, true, func(ctx context.Context, tx bun.Tx) error {
			return tx.NewRaw("SELECT id FROM customer_search_ids(?) AS id ORDER BY 1", escape(term)).Scan(ctx, &now)
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(now, before) {
			t.Errorf("search %q: %d customers, the whole term's LIKE %d", term, len(now), len(before))
		}
		if len(before) > 0 {
			matched++
		}
		if len(pieces(term)) > 0 {
			viaPieces++
		} else {
			whole++
		}
	}
	t.Logf("%d terms: %d matched, %d went to the index in pieces, %d whole", len(terms), matched, viaPieces, whole)
	// Not vacuous: most terms find someone, and (off Citus) both ways were taken.
	if matched < 40 || (!testdb.OnCitus() && (viaPieces < 10 || whole < 10)) {
		t.Fatalf("%d terms matched, %d went to the index in pieces, %d whole", matched, viaPieces, whole)
	}

	// Through the API: the list and its count.
	c := srv.As(t, org, auth.Viewer)
	for term, want := range map[string]int{"user123@": 1, "user12": 11, "Ana Pérez": 10, "ana": 100, "100%": 1, "zzzzzz": 0} {
		p := listCustomers(t, c, gqlVars("search", term, "first", 100))
		if p.TotalCount != want || len(p.Edges) != want {
			t.Errorf("customers(search: %q): %d edges, totalCount %d, want %d", term, len(p.Edges), p.TotalCount, want)
		}
	}
}
