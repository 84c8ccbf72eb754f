package importer

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// BenchmarkImportCustomers100k imports a file of 100,000 customers (every row with an
// email, a phone, a cédula, a birth date and tags; 1 % with an invalid email, 1 % repeating
// an earlier row's externalId) into a new organization, through the same path as
// `customer-service import customers`, and reports rows a second and the peak resident
// memory of the process (VmHWM) before and after: the file is read as a stream, so the
// peak does not grow with it (BENCHMARKS.md).
//
//	go test ./importer -run XXX -bench ImportCustomers100k -benchtime 1x -timeout 30m
//
// IMPORT_BENCH_ROWS and IMPORT_BENCH_BATCH change the file's rows and the rows a batch.
func BenchmarkImportCustomers100k(b *testing.B) {
	rows := 100000
	if n, err := strconv.Atoi(os.Getenv("IMPORT_BENCH_ROWS")); err == nil {
		rows = n
	}
	batch := DefaultBatchSize
	if n, err := strconv.Atoi(os.Getenv("IMPORT_BENCH_BATCH")); err == nil {
		batch = n
	}
	path := filepath.Join(b.TempDir(), "customers.csv")
	size := writeBenchFile(b, path, rows)
	e := newEnv(b)
	for i := 0; i < b.N; i++ {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		before := vmHWM(b)
		start := time.Now()
		sum, err := Customers(ctx(), e.h, uuid.New(), bufio.NewReader(f), Options{Actor: uuid.New(), BatchSize: batch})
		took := time.Since(start)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		if sum.Rows != rows || sum.Rejected != rows/100 || sum.Existing != rows/100 {
			b.Fatalf("summary %+v", sum)
		}
		b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
		b.ReportMetric(float64(before)/1024, "MiB-peak-RSS-before")
		b.ReportMetric(float64(vmHWM(b))/1024, "MiB-peak-RSS-after")
		b.ReportMetric(float64(size)/(1<<20), "MiB-file")
	}
}

func writeBenchFile(b *testing.B, path string, rows int) int64 {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("externalId,customerType,firstName,lastName,email,phone,documentType,documentNumber,birthDate,gender,preferredLanguage,marketingConsent,tags,notes\n")
	for i := 0; i < rows; i++ {
		ext, email := i, fmt.Sprintf("customer%d@example.com", i)
		switch i % 100 {
		case 37:
			email = fmt.Sprintf("customer%d.example.com", i) // invalid
		case 73:
			ext = i - 1 // an earlier row's externalId: already imported
		}
		fmt.Fprintf(w, "ext-%d,B2C,Nombre%d,Apellido %d,%s,+5076%07d,CEDULA,%d-%d-%d,%d-%02d-%02d,F,es,%v,cliente|import,\n",
			ext, i, i, email, i, 1+i%13, i/100000, i%100000, 1950+i%50, 1+i%12, 1+i%28, i%2 == 0)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	return st.Size()
}

// vmHWM is the process's peak resident set size in KiB.
func vmHWM(b *testing.B) int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
