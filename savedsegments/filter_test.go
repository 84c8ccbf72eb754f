package savedsegments

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"customerservice/customers"
	"customerservice/models"
)

// A live filter survives its stored document exactly: a nil list (no condition) stays nil
// and an empty one (matches no one) stays empty; values the enums no longer have are kept.
func TestDocument_RoundTripKeepsEveryCondition(t *testing.T) {
	from := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	yes, no := true, false
	for _, f := range []customers.Filter{
		{},
		{Statuses: []models.CustomerStatus{}, Tiers: []models.Tier{"gold", "diamond"}},
		{Types: []models.CustomerType{"b2b"}, Segments: []models.SegmentCode{"lost"}, IsVip: &yes, IsAtRisk: &no,
			TagsAny: []string{"a"}, TagsAll: []string{}, HasCreditAccount: &no,
			CreatedAt: customers.TimeRange{From: &from}, LastPurchaseAt: customers.TimeRange{To: &from}, Search: "núñez"},
	} {
		raw, err := json.Marshal(document(f))
		if err != nil {
			t.Fatal(err)
		}
		_, got, err := decode(raw)
		if err != nil || !reflect.DeepEqual(got, f) {
			t.Errorf("%+v\nstored %s\nread   %+v (%v)", f, raw, got, err)
		}
	}
}

func TestDecode_RefusesAnUnknownVersionAndNonsense(t *testing.T) {
	for _, raw := range []string{`{"version": 2, "filter": {}}`, `{"filter": {}}`, `[]`, `{"version": 1, "filter": {"tier": "GOLD"}}`} {
		if _, _, err := decode([]byte(raw)); err == nil {
			t.Errorf("%s: no error", raw)
		}
	}
}
