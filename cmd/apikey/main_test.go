package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/dynamo"
	"github.com/mediatrail/mediatrail/shared/testenv"
)

// The commands against DynamoDB Local: keys are stored hashed only, listed
// per workspace, and refused as soon as they are revoked, by key or by hash
// prefix.
func TestAPIKeyCommands(t *testing.T) {
	ctx := testenv.Context(t)
	client := testenv.DynamoDB(t)
	table := testenv.Table(t, "apikey")
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	store := dynamo.New(client, table)
	openTable := func(_ context.Context, name string, local bool) (keyStore, error) {
		if name != table || local {
			t.Fatalf("opened %q (local %v), want %q", name, local, table)
		}
		return store, nil
	}
	apikey := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(args, "-table", table), &out, openTable)
		return out.String(), err
	}
	minted := regexp.MustCompile(`X-API-Key: (mt_[0-9a-f]{48})`)
	create := func(ws string) string {
		out, err := apikey("create", "-workspace", ws)
		m := minted.FindStringSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("create %s: %q, %v", ws, out, err)
		}
		return m[1]
	}
	a1, a2, b := create("ws-a"), create("ws-a"), create("ws-b")
	if _, err := apikey("create", "-workspace", "ws-c", "-key", "mt_chosen_key"); err != nil {
		t.Fatal(err)
	}

	t.Run("stored hashed only", func(t *testing.T) {
		items, err := client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		dump := strings.ToLower(strings.Join(func() []string {
			var s []string
			for _, it := range items.Items {
				for k, v := range it {
					s = append(s, k, strings.ToLower(fmt.Sprint(v)))
				}
			}
			return s
		}(), " "))
		for _, k := range []string{a1, a2, b, "mt_chosen_key"} {
			if strings.Contains(dump, strings.ToLower(k)) {
				t.Errorf("table holds key %s", k)
			}
		}
	})

	t.Run("list", func(t *testing.T) {
		for _, tc := range []struct {
			args       []string
			has, hasnt []string
		}{
			{[]string{"list"}, []string{hashOf(a1), hashOf(a2), hashOf(b), "ws-c", "4 keys"}, nil},
			{[]string{"list", "-workspace", "ws-a"}, []string{hashOf(a1), hashOf(a2), "2 keys"}, []string{hashOf(b), "ws-b", "ws-c"}},
			{[]string{"list", "-workspace", "ws-none"}, []string{"0 keys"}, []string{"ws-a"}},
		} {
			out, err := apikey(tc.args...)
			if err != nil {
				t.Fatalf("%v: %v", tc.args, err)
			}
			for _, s := range tc.has {
				if !strings.Contains(out, s) {
					t.Errorf("%v: no %s in %q", tc.args, s, out)
				}
			}
			for _, s := range tc.hasnt {
				if strings.Contains(out, s) {
					t.Errorf("%v: %s in %q", tc.args, s, out)
				}
			}
		}
	})

	t.Run("revoke", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			args    []string
			code    string // "" for success
			revoked string // the key refused afterwards
		}{
			{"by key", []string{"revoke", "-key", a1}, "", a1},
			{"again", []string{"revoke", "-key", a1}, mediatrail.ENOTFOUND, ""},
			{"by hash prefix", []string{"revoke", "-hash", hashOf(b)[:10]}, "", b},
			{"unknown prefix", []string{"revoke", "-hash", "00000000"}, mediatrail.ENOTFOUND, ""},
			{"short prefix", []string{"revoke", "-hash", "abc"}, mediatrail.EINVALID, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := apikey(tc.args...)
				if mediatrail.ErrorCode(err) != tc.code {
					t.Fatalf("err = %v, want code %q", err, tc.code)
				}
				if tc.revoked == "" {
					return
				}
				if _, err := store.WorkspaceForKeyHash(ctx, mediatrail.HashAPIKey(tc.revoked)); mediatrail.ErrorCode(err) != mediatrail.EUNAUTHENTICATED {
					t.Errorf("revoked key still opens: %v", err)
				}
			})
		}
		// The others still open their workspaces.
		for key, ws := range map[string]string{a2: "ws-a", "mt_chosen_key": "ws-c"} {
			if got, err := store.WorkspaceForKeyHash(ctx, mediatrail.HashAPIKey(key)); err != nil || got != ws {
				t.Errorf("key of %s: %q, %v", ws, got, err)
			}
		}
	})
}

// Malformed command lines are usage errors, before any table is opened.
func TestAPIKeyUsage(t *testing.T) {
	never := func(context.Context, string, bool) (keyStore, error) {
		t.Fatal("opened a table for a usage error")
		return nil, nil
	}
	for _, args := range [][]string{
		{"create", "-table", "t"},                                 // no workspace
		{"create", "-workspace", "bad workspace!", "-table", "t"}, // invalid workspace
		{"list"},                  // no table
		{"revoke", "-table", "t"}, // neither key nor hash
		{"revoke", "-key", "k", "-hash", "abcdefgh", "-table", "t"},
		{"rotate", "-table", "t"},
		{"list", "-table", "t", "extra"},
	} {
		t.Setenv("TABLE_NAME", "")
		if err := run(context.Background(), args, &bytes.Buffer{}, never); !errors.Is(err, errUsage) {
			t.Errorf("%v: err = %v, want usage", args, err)
		}
	}
}

func hashOf(key string) string { return mediatrail.HashAPIKey(key)[:hashPrefix] }
