package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"customerservice/graph/scalars"
	"customerservice/internal/testkit/apitest"
	"customerservice/models"
)

// computedFields are the fields of the rendered types that read no column of their own
// row, with the test that checks their values. A field added to one of these types either
// reads its row's column of the same name (checked below against the row itself) or is
// added here with its test.
var computedFields = map[string]string{
	"Customer.fullName":                  "TestCustomers_ReadsOnlyTheColumnsTheQueryAsksFor",
	"Customer.addresses":                 "TestCustomer360_RendersRowsAsTheMutationsReturnThem",
	"Customer.defaultShippingAddress":    "TestCustomer_ReadsThe360",
	"Customer.defaultBillingAddress":     "TestSetDefaultAddress_ReplacesDefaultsOfEveryTypeItServes",
	"Customer.loyaltyAccount":            "TestCustomer360_EveryColumnFieldIsItsRowsValue",
	"Customer.creditAccount":             "TestCustomer360_EveryColumnFieldIsItsRowsValue",
	"Customer.segment":                   "TestCustomer360_EveryColumnFieldIsItsRowsValue",
	"Customer.purchases":                 "TestCustomer360_RendersRowsAsTheMutationsReturnThem",
	"Customer.timeline":                  "timeline_test.go",
	"Customer.dataQualityIssues":         "TestDataQualityIssues_ListsStoredRowsThatBreakARule",
	"Customer.consents":                  "TestConsents_HistoryAndCurrentStatePerPurpose, TestConsents_LegacyMarketingConsentAndTheFilter",
	"Customer.consentHistory":            "TestConsents_HistoryAndCurrentStatePerPurpose",
	"LoyaltyAccount.nextTier":            "TestEnrollLoyalty_IsIdempotentAndAudited",
	"LoyaltyAccount.pointsToNextTier":    "TestEnrollLoyalty_IsIdempotentAndAudited, loyalty_tiers_test.go",
	"LoyaltyAccount.pointsExpiringSoon":  "loyalty_reads_test.go",
	"LoyaltyAccount.transactions":        "TestCustomer360_RendersRowsAsTheMutationsReturnThem",
	"CreditAccount.outstanding":          "credit_aging_test.go",
	"CreditAccount.overdueAmount":        "credit_aging_test.go",
	"CreditAccount.aging":                "credit_aging_test.go",
	"CreditAccount.usages":               "TestCustomer360_RendersRowsAsTheMutationsReturnThem",
	"CreditAccount.payments":             "TestCustomer360_RendersRowsAsTheMutationsReturnThem",
	"CreditAccount.requestedCreditLimit": "TestCreditFourEyes_AccountsAndLimitIncreasesNeedASecondManager",
	"CreditAccount.policyWarnings":       "TestCreditAccount360_PolicyWarningsAtTheirBoundaries",
	"CreditAccount.asOf":                 "TestCreditAccountAsOf_RandomHistoriesMatchAModelAtEveryInstant",
	"LoyaltyAccount.pendingPoints":       "loyalty_pending_test.go",
	"LoyaltyAccount.pendingLots":         "loyalty_pending_test.go",
	"LoyaltyAccount.asOf":                "loyalty_asof_test.go",
}

// Every leaf field of Customer, LoyaltyAccount, CreditAccount and CustomerSegment that
// reads a column of its row is the value of that column as the Go model holds it, written
// by the schema's scalars: the field list comes from the schema, so a new field is compared
// from then on, or must be named in computedFields with its test.
func TestCustomer360_EveryColumnFieldIsItsRowsValue(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	credit := newCreditTeam(t, srv)
	customerID, _ := credit.approved(t, "750.00")
	ctx := context.Background()
	if r := credit.agent.Do(t, `mutation($id: UUID!) { enrollLoyalty(customerId: $id) { userErrors { code } } }`, map[string]any{"id": customerID}); len(r.Errors) > 0 {
		t.Fatal(string(r.Body))
	}
	mustExec(t, srv, `UPDATE customers SET birth_date = '1990-05-17', gender = 'f', notes = 'n', tags = '{a,b}', metadata = '{"k": [1, "x"]}',
		document_type = 'ruc', document_number = '8-123-456', last_purchase_at = now(), status_reason = NULL WHERE customer_id = ?`, customerID)
	mustExec(t, srv, `INSERT INTO customer_segments (organization_id, customer_id, segment_code, rfm_recency, rfm_frequency, rfm_monetary,
		lifetime_value, average_order_value, total_orders, days_since_last_purchase, is_vip, is_at_risk)
		VALUES (?, ?, 'loyal', 4, 3, 5, 1234.50, 61.73, 20, 12, true, false)`, credit.org, customerID)

	schema := loadSchemaForTest(t)
	types := []struct {
		name, path string
		model      any
	}{
		{"Customer", "", &models.Customer{}},
		{"LoyaltyAccount", "loyaltyAccount", &models.LoyaltyAccount{}},
		{"CreditAccount", "creditAccount", &models.CreditAccount{}},
		{"CustomerSegment", "segment", &models.CustomerSegment{}},
	}
	var sel strings.Builder
	for _, ty := range types {
		fields := leafFields(t, ty.name)
		if ty.path == "" {
			sel.WriteString(fields + " ")
		} else {
			sel.WriteString(ty.path + " { " + fields + " } ")
		}
	}
	r := credit.agent.Do(t, `query($id: UUID!) { customer(id: $id) { `+sel.String()+` } }`, map[string]any{"id": customerID})
	if len(r.Errors) > 0 {
		t.Fatal(string(r.Body))
	}
	for _, ty := range types {
		if err := srv.Owner.NewSelect().Model(ty.model).ColumnExpr("*").Where("customer_id = ?", customerID).Scan(ctx); err != nil {
			t.Fatalf("%s: %v", ty.name, err)
		}
		var got map[string]json.RawMessage
		path := []any{"customer"}
		if ty.path != "" {
			path = append(path, ty.path)
		}
		if err := json.Unmarshal([]byte(pick(t, r.Data, path...)), &got); err != nil {
			t.Fatal(err)
		}
		model := reflect.ValueOf(ty.model).Elem()
		for _, f := range schema.Types[ty.name].Fields {
			kind := schema.Types[f.Type.Name()].Kind
			if kind != ast.Scalar && kind != ast.Enum {
				if _, ok := computedFields[ty.name+"."+f.Name]; !ok {
					t.Errorf("%s.%s: no test of its value: add it to computedFields with the test that checks it", ty.name, f.Name)
				}
				continue
			}
			gf := model.FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, f.Name) })
			if !gf.IsValid() {
				if _, ok := computedFields[ty.name+"."+f.Name]; !ok {
					t.Errorf("%s.%s reads no column of the same name and has no test of its value: add it to computedFields", ty.name, f.Name)
				}
				continue
			}
			want := marshalLike(t, f.Type.Name(), kind, gf)
			if !bytes.Equal(compactRaw(t, got[f.Name]), compactRaw(t, want)) {
				t.Errorf("%s.%s = %s, the row holds %s", ty.name, f.Name, got[f.Name], want)
			}
		}
	}
}

// marshalLike writes the Go value v as the schema's scalar (or enum) typeName does.
func marshalLike(t *testing.T, typeName string, kind ast.DefinitionKind, v reflect.Value) []byte {
	t.Helper()
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return []byte("null")
		}
		v = v.Elem()
	}
	var buf bytes.Buffer
	switch x := v.Interface().(type) {
	case time.Time:
		if typeName == "Date" {
			scalars.MarshalDate(x).MarshalGQL(&buf)
		} else {
			scalars.MarshalDateTime(x).MarshalGQL(&buf)
		}
		return buf.Bytes()
	case decimal.Decimal:
		scalars.MarshalDecimal(x).MarshalGQL(&buf)
		return buf.Bytes()
	case uuid.UUID:
		scalars.MarshalUUID(x).MarshalGQL(&buf)
		return buf.Bytes()
	case map[string]any:
		scalars.MarshalJSON(x).MarshalGQL(&buf)
		return buf.Bytes()
	}
	if kind == ast.Enum {
		b, _ := json.Marshal(strings.ToUpper(v.String()))
		return b
	}
	b, err := json.Marshal(v.Interface())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compactRaw(t *testing.T, raw []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	b, _ := json.Marshal(v)
	return b
}

func loadSchemaForTest(t *testing.T) *ast.Schema {
	t.Helper()
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema, gqlErr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if gqlErr != nil {
		t.Fatal(gqlErr)
	}
	return schema
}
