package segments

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"customerservice/models"
)

// §6 read by hand for the cases that tell a correct rule order from the widely copied one.
func TestCode_OrderedRules(t *testing.T) {
	for _, c := range []struct {
		r, f, m, total int
		want           models.SegmentCode
	}{
		{5, 5, 5, 9, models.SegmentChampions},
		{4, 4, 4, 9, models.SegmentChampions},
		{3, 5, 5, 9, models.SegmentLoyal},             // R 3 is not a champion
		{5, 4, 3, 9, models.SegmentLoyal},             // M 3 is not a champion
		{5, 1, 5, 1, models.SegmentNew},               // new comes before potential_loyalist
		{4, 1, 1, 1, models.SegmentNew},               //
		{5, 1, 5, 2, models.SegmentPotentialLoyalist}, // two purchases: not new
		{3, 1, 1, 1, models.SegmentPotentialLoyalist}, // new needs R ≥ 4; R 3 falls to the catch-all
		{2, 3, 1, 9, models.SegmentAtRisk},            //
		{1, 5, 5, 9, models.SegmentAtRisk},            // frequent once, long ago
		{2, 2, 5, 9, models.SegmentLost},              //
		{1, 1, 1, 1, models.SegmentLost},              // one purchase long ago
		{3, 3, 3, 9, models.SegmentPotentialLoyalist}, // catch-all
		{3, 3, 5, 9, models.SegmentPotentialLoyalist}, // catch-all
	} {
		if got := Code(c.r, c.f, c.m, c.total); got != c.want {
			t.Errorf("Code(R%d F%d M%d, %d purchases) = %s, want %s", c.r, c.f, c.m, c.total, got, c.want)
		}
	}
}

// §6: the SQL CASE the recalculation runs gives every one of the 125 (R, F, M) combinations
// (with one and with several purchases) a segment, and the same one as Code.
func TestSegmentRules_SQLAgreesWithCode(t *testing.T) {
	t.Parallel()
	app, _ := pools(t)
	var values []string
	for r := 1; r <= 5; r++ {
		for f := 1; f <= 5; f++ {
			for m := 1; m <= 5; m++ {
				for _, total := range []int{1, 2} {
					values = append(values, fmt.Sprintf("(%d, %d, %d, %d)", r, f, m, total))
				}
			}
		}
	}
	var got []struct {
		R, F, M, Total int
		Code           *string
	}
	query := `SELECT rfm_recency AS r, rfm_frequency AS f, rfm_monetary AS m, total_orders AS total, ` + segmentRules + ` AS code
		FROM (VALUES ` + strings.Join(values, ", ") + `) AS v (rfm_recency, rfm_frequency, rfm_monetary, total_orders)`
	if err := app.NewRaw(query).Scan(context.Background(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 250 {
		t.Fatalf("%d rows", len(got))
	}
	reached := map[models.SegmentCode]bool{}
	for _, g := range got {
		want := Code(g.R, g.F, g.M, g.Total)
		if g.Code == nil || models.SegmentCode(*g.Code) != want {
			t.Errorf("R%d F%d M%d, %d purchases: SQL %v, Code %s", g.R, g.F, g.M, g.Total, g.Code, want)
		}
		reached[want] = true
	}
	if len(reached) != 6 {
		t.Errorf("segments reached: %v, want all six", reached)
	}
}
