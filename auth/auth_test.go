package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

const secret = "a-test-secret-that-is-32-bytes-long"

func claims(mut func(*Claims)) Claims {
	c := Claims{
		OrgID: uuid.NewString(),
		Roles: []string{"agent"},
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   uuid.NewString(),
			ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
			Issuer:    "https://issuer.example",
			Audience:  jwt.ClaimStrings{"customer-service"},
		},
	}
	if mut != nil {
		mut(&c)
	}
	return c
}

func hs256(t *testing.T, key string, c Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify_HS256(t *testing.T) {
	v, err := NewVerifier(context.Background(), Config{Secret: secret, Issuer: "https://issuer.example", Audience: "customer-service"})
	if err != nil {
		t.Fatal(err)
	}
	good := claims(nil)
	p, err := v.Verify(hs256(t, secret, good))
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID.String() != good.Subject || p.OrganizationID.String() != good.OrgID || len(p.Roles) != 1 || p.Roles[0] != Agent {
		t.Fatalf("principal %+v from %+v", p, good)
	}

	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	for name, tc := range map[string]struct {
		token string
		want  string
	}{
		"wrong secret":   {hs256(t, "another-secret-that-is-32-bytes-long", good), "invalid token"},
		"expired":        {hs256(t, secret, claims(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour)) })), "token expired"},
		"no expiry":      {hs256(t, secret, claims(func(c *Claims) { c.ExpiresAt = nil })), "invalid token"},
		"other issuer":   {hs256(t, secret, claims(func(c *Claims) { c.Issuer = "https://evil.example" })), "token not issued for this service"},
		"other audience": {hs256(t, secret, claims(func(c *Claims) { c.Audience = jwt.ClaimStrings{"billing"} })), "token not issued for this service"},
		"sub not a UUID": {hs256(t, secret, claims(func(c *Claims) { c.Subject = "alice" })), "token claim sub must be a UUID"},
		"no org":         {hs256(t, secret, claims(func(c *Claims) { c.OrgID = "" })), "token claim org_id must be a UUID"},
		"nil org":        {hs256(t, secret, claims(func(c *Claims) { c.OrgID = uuid.Nil.String() })), "token claim org_id must be a UUID"},
		"alg none":       {none, "invalid token"},
		"garbage":        {"not.a.jwt", "invalid token"},
	} {
		if _, err := v.Verify(tc.token); err == nil || err.Error() != tc.want {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

func TestVerify_UnknownRolesAreDropped(t *testing.T) {
	v, _ := NewVerifier(context.Background(), Config{Secret: secret})
	p, err := v.Verify(hs256(t, secret, claims(func(c *Claims) { c.Roles = []string{"superadmin", "viewer", "ADMIN"} })))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Roles) != 1 || p.Roles[0] != Viewer || p.Can(Agent) {
		t.Fatalf("roles %v", p.Roles)
	}
}

func TestPrincipal_RolesIncludeTheOnesBelow(t *testing.T) {
	order := []Role{Viewer, Agent, Manager, Admin}
	for i, held := range order {
		p := Principal{Roles: []Role{held}}
		for j, needed := range order {
			if got, want := p.Can(needed), j <= i; got != want {
				t.Errorf("%s can %s = %v, want %v", held, needed, got, want)
			}
		}
	}
	if (Principal{}).Can(Viewer) {
		t.Error("no role can view")
	}
}

func TestMint_RoundTrips(t *testing.T) {
	v, _ := NewVerifier(context.Background(), Config{Secret: secret, Issuer: "iss", Audience: "aud"})
	want := Principal{UserID: uuid.New(), OrganizationID: uuid.New(), Roles: []Role{Manager, Viewer}}
	token, err := Mint(secret, want, time.Minute, "iss", "aud")
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(token)
	if err != nil || got.UserID != want.UserID || got.OrganizationID != want.OrganizationID || len(got.Roles) != 2 {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rsaJWK is the public half of key as a JWK of kid.
func rsaJWK(kid string, key *rsa.PrivateKey) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}
}

// RS256 and ES256 tokens are checked against the keys of a JWKS URL.
func TestVerify_RS256AndES256ThroughJWKS(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := map[string]any{"keys": []map[string]any{
		rsaJWK("rsa-1", rsaKey),
		{"kty": "EC", "kid": "ec-1", "alg": "ES256", "use": "sig", "crv": "P-256", "x": b64(ecKey.X.FillBytes(make([]byte, 32))), "y": b64(ecKey.Y.FillBytes(make([]byte, 32)))},
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { json.NewEncoder(w).Encode(jwks) }))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := NewVerifier(ctx, Config{JWKSURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(m jwt.SigningMethod, kid string, key any) string {
		tok := jwt.NewWithClaims(m, claims(nil))
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := v.Verify(sign(jwt.SigningMethodRS256, "rsa-1", rsaKey)); err != nil {
		t.Errorf("RS256: %v", err)
	}
	if _, err := v.Verify(sign(jwt.SigningMethodES256, "ec-1", ecKey)); err != nil {
		t.Errorf("ES256: %v", err)
	}
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := v.Verify(sign(jwt.SigningMethodRS256, "rsa-1", otherKey)); err == nil {
		t.Error("RS256 signed by an unknown key accepted")
	}
	// Without JWT_SECRET, an HS256 token is refused (no algorithm confusion with the public key).
	if _, err := v.Verify(hs256(t, secret, claims(nil))); err == nil {
		t.Error("HS256 accepted by a JWKS-only verifier")
	}
}

func TestNewVerifier_NeedsAKey(t *testing.T) {
	if _, err := NewVerifier(context.Background(), Config{}); err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("err = %v", err)
	}
}

func TestMiddleware_AnswersUnauthenticatedWith401(t *testing.T) {
	v, _ := NewVerifier(context.Background(), Config{Secret: secret})
	reached := false
	h := Middleware(v, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, reached = FromContext(r.Context())
	}))
	for name, header := range map[string]string{"none": "", "basic": "Basic abc", "empty bearer": "Bearer ", "bad": "Bearer x.y.z"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		h.ServeHTTP(rec, req)
		var body struct {
			Errors []struct {
				Extensions struct{ Code string }
			}
		}
		json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != http.StatusUnauthorized || len(body.Errors) != 1 || body.Errors[0].Extensions.Code != "UNAUTHENTICATED" || reached {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	req.Header.Set("Authorization", "Bearer "+hs256(t, secret, claims(nil)))
	h.ServeHTTP(rec, req)
	if !reached {
		t.Fatal("a valid token did not reach the handler")
	}
}

// A key withdrawn from the JWKS stops verifying tokens once the key set is fetched again
// (every jwksRefresh; lowered here): a token signed by it and not yet cached is refused.
func TestVerify_AWithdrawnJWKSKeyIsRefusedAfterTheRefresh(t *testing.T) {
	old := jwksRefresh
	jwksRefresh = 200 * time.Millisecond
	defer func() { jwksRefresh = old }()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	key := rsaJWK("rsa-1", rsaKey)
	var mu sync.Mutex
	keys := []map[string]any{key}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := NewVerifier(ctx, Config{JWKSURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	sign := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(nil))
		tok.Header["kid"] = "rsa-1"
		s, err := tok.SignedString(rsaKey)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := v.Verify(sign()); err != nil {
		t.Fatalf("before the withdrawal: %v", err)
	}
	mu.Lock()
	keys = []map[string]any{}
	mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := v.Verify(sign())
		if err != nil && err.Error() == "invalid token" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a token of the withdrawn key still verifies 5 s after a 200 ms refresh (err %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
