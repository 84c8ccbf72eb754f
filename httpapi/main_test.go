package httpapi_test

import (
	"os"
	"testing"

	"customerservice/internal/testkit/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }
