package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Config says which tokens to trust.
type Config struct {
	Secret   string // HS256 shared secret (JWT_SECRET)
	JWKSURL  string // RS256/ES256 keys (JWT_JWKS_URL)
	Issuer   string // checked when set
	Audience string // checked when set
}

// Claims are the token claims of §7.
type Claims struct {
	OrgID string   `json:"org_id"`
	Roles []string `json:"roles"`
	jwt.RegisteredClaims
}

// Verifier checks bearer tokens.
type Verifier struct {
	parser *jwt.Parser
	secret []byte
	jwks   keyfunc.Keyfunc
	cache  *tokenCache // tokens verified in the last minute (cache.go)
}

// jwksRefresh is how often the key set of JWT_JWKS_URL is fetched again (keyfunc's default
// is an hour). A key withdrawn from it stops admitting tokens within jwksRefresh +
// verifiedTTL: until the next fetch it still verifies tokens, and a token it verified stays
// cached for verifiedTTL (cache.go). A variable for the tests.
var jwksRefresh = 5 * time.Minute

// NewVerifier builds a verifier; with a JWKS URL it fetches and refreshes the key set in the
// background until ctx ends.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	v := &Verifier{secret: []byte(cfg.Secret), cache: newTokenCache()}
	var methods []string
	if cfg.Secret != "" {
		methods = append(methods, "HS256")
	}
	if cfg.JWKSURL != "" {
		k, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{RefreshInterval: jwksRefresh})
		if err != nil {
			return nil, fmt.Errorf("JWT_JWKS_URL: %w", err)
		}
		v.jwks = k
		methods = append(methods, "RS256", "ES256")
	}
	if len(methods) == 0 {
		return nil, errors.New("no JWT key: set JWT_SECRET (HS256) or JWT_JWKS_URL (RS256/ES256)")
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithLeeway(30 * time.Second)}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

func (v *Verifier) key(t *jwt.Token) (any, error) {
	if t.Method.Alg() == "HS256" {
		return v.secret, nil
	}
	return v.jwks.Keyfunc(t)
}

// Verify checks the token and returns its principal. The error message is safe to show.
// A token verified in the last minute and not expired is answered from the cache (cache.go).
func (v *Verifier) Verify(token string) (Principal, error) {
	if p, ok := v.cache.get(token); ok {
		return p, nil
	}
	p, exp, err := v.verify(token)
	if err != nil {
		return Principal{}, err
	}
	v.cache.put(token, p, exp)
	return p, nil
}

// verify checks the token anew: its principal and its expiry.
func (v *Verifier) verify(token string) (Principal, time.Time, error) {
	var claims Claims
	if _, err := v.parser.ParseWithClaims(token, &claims, v.key); err != nil {
		switch {
		case errors.Is(err, jwt.ErrTokenExpired):
			return Principal{}, time.Time{}, errors.New("token expired")
		case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenInvalidAudience):
			return Principal{}, time.Time{}, errors.New("token not issued for this service")
		default:
			return Principal{}, time.Time{}, errors.New("invalid token")
		}
	}
	user, err := uuid.Parse(claims.Subject)
	if err != nil {
		return Principal{}, time.Time{}, errors.New("token claim sub must be a UUID")
	}
	org, err := uuid.Parse(claims.OrgID)
	if err != nil || org == uuid.Nil {
		return Principal{}, time.Time{}, errors.New("token claim org_id must be a UUID")
	}
	p := Principal{UserID: user, OrganizationID: org}
	for _, r := range claims.Roles {
		if _, known := rank[Role(r)]; known {
			p.Roles = append(p.Roles, Role(r))
		}
	}
	return p, claims.ExpiresAt.Time, nil
}

// Mint signs an HS256 development token (the `token` subcommand and the tests).
func Mint(secret string, p Principal, ttl time.Duration, issuer, audience string) (string, error) {
	now := time.Now()
	claims := Claims{
		OrgID: p.OrganizationID.String(),
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   p.UserID.String(),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			Issuer:    issuer,
		},
	}
	if audience != "" {
		claims.Audience = jwt.ClaimStrings{audience}
	}
	claims.Roles = make([]string, len(p.Roles))
	for i, r := range p.Roles {
		claims.Roles[i] = string(r)
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
}
