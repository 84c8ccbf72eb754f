package tracing

import (
	"context"
	"testing"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Start builds the exporter of either protocol without reaching the collector (it connects
// when it first exports), and Shutdown with nothing buffered returns at once.
func TestStart_BuildsAnOTLPExporterOfEitherProtocol(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	for _, protocol := range []string{ProtocolHTTP, ProtocolGRPC} {
		tr, err := Start(context.Background(), protocol)
		if err != nil {
			t.Fatalf("%s: %v", protocol, err)
		}
		if err := tr.Shutdown(context.Background()); err != nil {
			t.Fatalf("%s: shutdown: %v", protocol, err)
		}
	}
	if _, err := Start(context.Background(), "http/json"); err == nil {
		t.Fatal("http/json: want an error")
	}
}

func TestErrorCodes_AreDistinctInOrder(t *testing.T) {
	errs := gqlerror.List{
		{Message: "a", Extensions: map[string]any{"code": "FORBIDDEN"}},
		{Message: "b", Extensions: map[string]any{"code": "NOT_FOUND"}},
		{Message: "c", Extensions: map[string]any{"code": "FORBIDDEN"}},
		{Message: "d"},
	}
	if got := errorCodes(errs); len(got) != 3 || got[0] != "FORBIDDEN" || got[1] != "NOT_FOUND" || got[2] != "NONE" {
		t.Fatalf("errorCodes = %v", got)
	}
}
