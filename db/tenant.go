package db

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/auth"
)

// Caller is the authenticated principal of the request; services run only for one.
func Caller(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return auth.Principal{}, apperr.New(apperr.Unauthenticated, "not authenticated")
	}
	return p, nil
}

// Read runs fn in a read-only transaction of the caller's organization: on the read replica
// when ctx allows it (AllowReplica) and there is one, else on the primary.
func Read(ctx context.Context, h *Handle, fn func(ctx context.Context, tx bun.Tx) error) error {
	p, err := Caller(ctx)
	if err != nil {
		return err
	}
	return InOrg(ctx, h.forRead(ctx), p.OrganizationID, true, fn)
}

// Write runs fn in a read-write transaction of the caller's organization, always on the
// primary; fn gets the caller for ownership of new rows and the audit log.
func Write(ctx context.Context, h *Handle, fn func(ctx context.Context, tx bun.Tx, p auth.Principal) error) error {
	p, err := Caller(ctx)
	if err != nil {
		return err
	}
	return InOrg(ctx, h.DB, p.OrganizationID, false, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, tx, p)
	})
}

// Organizations lists the registered organizations (the organizations registry, migration
// 20261212000001_organizations_registry), for jobs that visit every tenant.
func Organizations(ctx context.Context, pool bun.IDB) ([]string, error) {
	var ids []string
	err := pool.NewRaw("SELECT id::text FROM organizations ORDER BY 1").Scan(ctx, &ids)
	return ids, err
}

// RegisterOrganization adds org to the organizations registry in tx (nothing when it is
// there already). The registry's policy lets a transaction register its own organization
// only. It looks first and inserts only when org is missing: on Citus every insert into the
// registry (a reference table), even one that conflicts, locks it on every node, and a
// server that restarts would otherwise do that again for each organization's next customer.
func RegisterOrganization(ctx context.Context, tx bun.IDB, org uuid.UUID) error {
	var known bool
	if err := tx.NewRaw("SELECT EXISTS (SELECT 1 FROM organizations WHERE id = ?)", org).Scan(ctx, &known); err != nil {
		return err
	}
	if known {
		return nil
	}
	_, err := tx.NewRaw("INSERT INTO organizations (id) VALUES (?) ON CONFLICT DO NOTHING", org).Exec(ctx)
	return err
}
