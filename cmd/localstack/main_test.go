package main

import (
	"encoding/json"
	"reflect"
	"testing"
)

// make reconcile runs against a stack that is already up, whose functions
// keep the environment they started with: the shell's settings travel in the
// event instead.
func TestReconcileEventCarriesShellSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		event   string
		env     map[string]string
		want    map[string]any
		wantErr bool
	}{
		{"dry run with both", `{"dry_run": true}`, map[string]string{"RECONCILE_GRACE": "10m", "RECONCILE_MAX_MISSING_BLOBS": "-1"},
			map[string]any{"dry_run": true, "grace": "10m", "max_missing_blobs": float64(-1)}, false},
		{"scheduled event, grace only", `{"source": "aws.events", "detail": {}}`, map[string]string{"RECONCILE_GRACE": "1s"},
			map[string]any{"source": "aws.events", "detail": map[string]any{}, "grace": "1s"}, false},
		{"nothing set", `{"dry_run": true}`, nil, map[string]any{"dry_run": true}, false},
		{"bad grace", `{}`, map[string]string{"RECONCILE_GRACE": "soon"}, nil, true},
		{"zero breaker", `{}`, map[string]string{"RECONCILE_MAX_MISSING_BLOBS": "0"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := reconcileEvent([]byte(tc.event), func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("event = %v, want %v", got, tc.want)
			}
		})
	}
}
