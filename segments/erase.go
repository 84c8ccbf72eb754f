package segments

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/models"
)

// Forget deletes the organization's customer's segment in the caller's transaction, for its erasure (§3:
// a segment is a profile derived from its purchases); deleted says whether it had one. The
// next recalculation scores an erased customer no more.
func Forget(ctx context.Context, tx bun.IDB, org, customerID uuid.UUID) (deleted bool, err error) {
	res, err := tx.NewDelete().Model((*models.CustomerSegment)(nil)).
		Where("s.organization_id = ?", org).Where("s.customer_id = ?", customerID).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("delete segment: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
