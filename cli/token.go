package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/config"
	"customerservice/internal/embedded"
	"customerservice/seed"
)

// token prints an HS256 development token signed with JWT_SECRET, or in embedded mode with
// the secret the server generated.
func token(cfg config.Config, args []string) error {
	fs := newFlags("token")
	orgFlag := fs.String("org", "", "the organization (default in embedded mode: the demo organization)")
	subFlag := fs.String("sub", "", "the user id (default: a new random UUID)")
	rolesFlag := fs.String("roles", "", "comma-separated roles: viewer, agent, manager, admin")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secret := cfg.JWTSecret
	if secret == "" {
		if !cfg.Embedded() {
			return errors.New("token signs HS256 tokens with JWT_SECRET, which is not set (tokens for JWT_JWKS_URL come from your identity provider)")
		}
		var err error
		if secret, err = embedded.ExistingJWTSecret(cfg.DataDir); err != nil {
			return err
		}
	}
	if *orgFlag == "" && cfg.Embedded() {
		*orgFlag = seed.DemoOrg.String()
	}
	org, err := uuid.Parse(*orgFlag)
	if err != nil || org == uuid.Nil {
		return fmt.Errorf("--org %q is not an organization UUID", *orgFlag)
	}
	sub := uuid.New()
	if *subFlag != "" {
		if sub, err = uuid.Parse(*subFlag); err != nil {
			return fmt.Errorf("--sub %q is not a user UUID", *subFlag)
		}
	}
	if *ttl <= 0 {
		return errors.New("--ttl must be positive, such as 24h")
	}
	p := auth.Principal{UserID: sub, OrganizationID: org}
	for _, r := range strings.Split(*rolesFlag, ",") {
		switch role := auth.Role(strings.TrimSpace(r)); role {
		case auth.Viewer, auth.Agent, auth.Manager, auth.Admin:
			p.Roles = append(p.Roles, role)
		default:
			return fmt.Errorf("--roles: %q is not a role; use viewer, agent, manager or admin, comma-separated", r)
		}
	}
	tok, err := auth.Mint(secret, p, *ttl, cfg.JWTIssuer, cfg.JWTAudience)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}
