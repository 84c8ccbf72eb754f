package graph_test

import (
	"testing"

	"customerservice/internal/testkit/apitest"
)

func TestLoyaltyProgram_IsCreatedWithTheDefaultsOfTheDesign(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	var out struct{ LoyaltyProgram loyProgram }
	team.Viewer.Must(t, `{ loyaltyProgram {`+loyProgramFields+`} }`, nil, &out)
	got := out.LoyaltyProgram
	got.UpdatedAt = ""
	want := loyProgram{PointsPerCurrencyUnit: "1.00", MultiplierBronze: "1.00", MultiplierSilver: "1.25",
		MultiplierGold: "1.50", MultiplierPlatinum: "2.00", ThresholdSilver: 1000, ThresholdGold: 5000,
		ThresholdPlatinum: 15000, QualificationMonths: 12, TierDurationMonths: 12, PointsLifetimeMonths: 12,
		AutoEnroll: true, SegmentLookbackDays: 365}
	if got != want {
		t.Fatalf("program = %+v, want %+v", got, want)
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM loyalty_programs WHERE organization_id = ?", team.Org); n != 1 {
		t.Fatalf("%d program rows", n)
	}
}

func TestUpdateLoyaltyProgram_ChangesOnlyWhatIsGivenAndAudits(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	p := loyOK(t, team.Admin, "updateLoyaltyProgram", map[string]any{
		"pointsPerCurrencyUnit": "0.125", "multiplierGold": "1.75", "thresholdSilver": 500, "autoEnroll": false,
		"pointsLifetimeMonths": 24, "thresholdGold": nil,
	})
	got := *p.LoyaltyProgram
	if got.PointsPerCurrencyUnit != "0.125" || got.MultiplierGold != "1.75" || got.ThresholdSilver != 500 || got.AutoEnroll ||
		got.PointsLifetimeMonths != 24 || got.ThresholdGold != 5000 || got.MultiplierSilver != "1.25" || got.SegmentLookbackDays != 365 {
		t.Fatalf("program = %+v", got)
	}
	if n := loyInt(t, srv, `SELECT count(*) FROM audit_log WHERE organization_id = ? AND action = 'loyalty.program.update'
		AND changed_fields = '{points_per_currency_unit,multiplier_gold,threshold_silver,points_lifetime_months,auto_enroll}'
		AND details->'to'->>'threshold_silver' = '500'`, team.Org); n != 1 {
		t.Fatalf("%d audit rows", n)
	}
	// The new rate earns: 80.00 × 0.125 × 1.00 = 10 points.
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)
	if pts := loyBuy(t, team.Agent, customer, "80.00").Transaction.Points; pts != 10 {
		t.Fatalf("earned %d", pts)
	}
}

// §8, as TestUpdateCustomer_WithoutChangeWritesNothingButTheAudit: an update to the values
// already stored, or with no setting at all, is audited with no changed fields and leaves
// the program (its updatedAt) as it was.
func TestUpdateLoyaltyProgram_WithoutChangeWritesNothingButTheAudit(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	before := loyOK(t, team.Admin, "updateLoyaltyProgram", map[string]any{"thresholdSilver": 800}).LoyaltyProgram
	for _, in := range []map[string]any{
		{"thresholdSilver": 800, "multiplierGold": "1.50", "pointsPerCurrencyUnit": "1", "autoEnroll": true},
		{},
	} {
		after := loyOK(t, team.Admin, "updateLoyaltyProgram", in).LoyaltyProgram
		if *after != *before {
			t.Fatalf("an update without change changed the program: %+v, was %+v", after, before)
		}
	}
	if got := loyAuditChanges(t, srv, team.Org, "loyalty.program.update"); loyJSON(got) != `[["threshold_silver"],[],[]]` {
		t.Fatalf("audit rows' changed fields = %s", loyJSON(got))
	}
	if n := loyInt(t, srv, `SELECT count(*) FROM audit_log WHERE organization_id = ? AND action = 'loyalty.program.update'
		AND changed_fields = '{}' AND actor_id = ? AND entity_id = ? AND details = '{"from": {}, "to": {}}'`,
		team.Org, team.Admin.User, team.Org); n != 2 {
		t.Fatalf("%d no-change audit rows naming the admin and the program with empty from/to", n)
	}
}

func TestUpdateLoyaltyProgram_RejectsInvalidSettings(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	cases := []struct {
		name  string
		input map[string]any
		field string
	}{
		{"gold not above silver", map[string]any{"thresholdGold": 1000}, "thresholdGold"},
		{"silver raised to gold", map[string]any{"thresholdSilver": 5000}, "thresholdSilver"},
		{"platinum equal to gold", map[string]any{"thresholdPlatinum": 5000}, "thresholdPlatinum"},
		{"both given, higher named", map[string]any{"thresholdGold": 20000, "thresholdPlatinum": 20000}, "thresholdPlatinum"},
		{"zero threshold", map[string]any{"thresholdSilver": 0}, "thresholdSilver"},
		{"negative rate", map[string]any{"pointsPerCurrencyUnit": "-0.01"}, "pointsPerCurrencyUnit"},
		{"rate over 1000", map[string]any{"pointsPerCurrencyUnit": "1000.0001"}, "pointsPerCurrencyUnit"},
		{"rate with five decimals", map[string]any{"pointsPerCurrencyUnit": "0.12345"}, "pointsPerCurrencyUnit"},
		{"negative multiplier", map[string]any{"multiplierBronze": "-1"}, "multiplierBronze"},
		{"multiplier over 10", map[string]any{"multiplierPlatinum": "10.01"}, "multiplierPlatinum"},
		{"multiplier with three decimals", map[string]any{"multiplierSilver": "1.255"}, "multiplierSilver"},
		{"qualification of 0 months", map[string]any{"qualificationMonths": 0}, "qualificationMonths"},
		{"tier duration of 121 months", map[string]any{"tierDurationMonths": 121}, "tierDurationMonths"},
		{"points lifetime of 0 months", map[string]any{"pointsLifetimeMonths": 0}, "pointsLifetimeMonths"},
		{"lookback of 3651 days", map[string]any{"segmentLookbackDays": 3651}, "segmentLookbackDays"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loyWantError(t, team.Admin, "updateLoyaltyProgram", tc.input, "INVALID", "input", tc.field)
		})
	}
	// The boundaries themselves are valid.
	p := loyOK(t, team.Admin, "updateLoyaltyProgram", map[string]any{"pointsPerCurrencyUnit": "1000", "multiplierBronze": "0",
		"multiplierPlatinum": "10", "qualificationMonths": 1, "tierDurationMonths": 120, "segmentLookbackDays": 3650,
		"thresholdSilver": 1, "thresholdGold": 2, "thresholdPlatinum": 3})
	if p.LoyaltyProgram.PointsPerCurrencyUnit != "1000.00" || p.LoyaltyProgram.ThresholdPlatinum != 3 {
		t.Fatalf("program = %+v", p.LoyaltyProgram)
	}
	if n := loyAudit(t, srv, team.Org, "loyalty.program.update"); n != 1 {
		t.Fatalf("%d audit rows: rejected changes must not be audited", n)
	}
}

func TestUpdateLoyaltyProgram_IsForAdminsOnly(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	for _, c := range []*apitest.Client{team.Viewer, team.Agent, team.Manager} {
		res := c.Do(t, loyMutations["updateLoyaltyProgram"], map[string]any{"input": map[string]any{"autoEnroll": false}})
		if res.ErrorCode(t) != "FORBIDDEN" {
			t.Fatalf("got %s", res.Body)
		}
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM loyalty_programs WHERE organization_id = ? AND NOT auto_enroll", team.Org); n != 0 {
		t.Fatal("a forbidden update changed the program")
	}
}
