package analysis

import (
	"strings"
	"testing"
)

func TestCSVCells(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"cpu", "500m", "0.5"},
		{"cpu", "32", "32"},
		{"cpu", "1250m", "1.25"},
		{"memory", "256Gi", "274877906944"},
		{"memory", "1G", "1000000000"},
		{"pods", "110", "110"},
		{"example.com/gpu", "2", "2"},
		{"cpu", "", ""},
		// Past int64 (millicores for cpu) the exact value, not a wrapped one.
		{"cpu", "1e30", "1" + strings.Repeat("0", 30)},
		{"memory", "15e18", "15000000000000000000"},
		{"cpu", "9e15", "9000000000000000"},
	} {
		if got := quantity(tc.name, tc.in); got != tc.want {
			t.Errorf("quantity(%s, %q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
	created, running := 2.1, 4.7
	if got := since(&created, &running); got != "2.6" {
		t.Errorf("since = %q, want 2.6", got)
	}
	if got := since(&created, nil); got != "" {
		t.Errorf("since(never) = %q", got)
	}
	if got := csvNumber(1e21); got != "1000000000000000000000" {
		t.Errorf("csvNumber(1e21) = %q: a spreadsheet cell must not use an exponent", got)
	}
}
