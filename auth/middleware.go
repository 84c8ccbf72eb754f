package auth

import (
	"net/http"
	"strings"

	"github.com/rs/zerolog"
)

// Middleware authenticates every request with its bearer token; without a valid one it
// answers 401 with a GraphQL error coded UNAUTHENTICATED (§7).
func Middleware(v *Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(header, "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			unauthenticated(w, "missing bearer token: send Authorization: Bearer <JWT>")
			return
		}
		p, err := v.Verify(strings.TrimSpace(token))
		if err != nil {
			unauthenticated(w, err.Error())
			return
		}
		zerolog.Ctx(r.Context()).UpdateContext(func(c zerolog.Context) zerolog.Context {
			return c.Str("org_id", p.OrganizationID.String()).Str("user_id", p.UserID.String())
		})
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

func unauthenticated(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/graphql-response+json; charset=utf-8")
	w.Header().Set("WWW-Authenticate", `Bearer realm="customer-service"`)
	w.WriteHeader(http.StatusUnauthorized)
	// msg comes from a fixed set of strings above: no user input is echoed.
	_, _ = w.Write([]byte(`{"errors":[{"message":"` + msg + `","extensions":{"code":"UNAUTHENTICATED"}}]}`))
}
