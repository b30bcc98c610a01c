package mediatrail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// memCredentials is an in-memory CredentialStore.
type memCredentials struct {
	mu       sync.Mutex
	creds    map[string]mediatrail.Credential // by ws/id
	defaults map[string]string                // by ws/provider
}

func newMemCredentials() *memCredentials {
	return &memCredentials{creds: map[string]mediatrail.Credential{}, defaults: map[string]string{}}
}

func (m *memCredentials) withDefault(c mediatrail.Credential) *mediatrail.Credential {
	c.IsDefault = m.defaults[c.WorkspaceID+"/"+c.Provider] == c.ID
	return &c
}

func (m *memCredentials) CreateCredential(_ context.Context, c *mediatrail.Credential) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.creds[c.WorkspaceID+"/"+c.ID] = *c
	k := c.WorkspaceID + "/" + c.Provider
	if m.defaults[k] == "" {
		m.defaults[k] = c.ID
		return true, nil
	}
	return false, nil
}

func (m *memCredentials) FindCredential(_ context.Context, ws, id string) (*mediatrail.Credential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.creds[ws+"/"+id]
	if !ok {
		return nil, mediatrail.Errorf(mediatrail.ENOTFOUND, "credential not found")
	}
	return m.withDefault(c), nil
}

func (m *memCredentials) ListCredentials(_ context.Context, ws string) ([]*mediatrail.Credential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*mediatrail.Credential
	for _, k := range slices.Sorted(maps.Keys(m.creds)) {
		if strings.HasPrefix(k, ws+"/") {
			out = append(out, m.withDefault(m.creds[k]))
		}
	}
	return out, nil
}

func (m *memCredentials) UpdateCredential(_ context.Context, c *mediatrail.Credential) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.creds[c.WorkspaceID+"/"+c.ID] = *c
	return nil
}

func (m *memCredentials) DeleteCredential(_ context.Context, ws, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.creds[ws+"/"+id]
	delete(m.creds, ws+"/"+id)
	if m.defaults[ws+"/"+c.Provider] == id {
		delete(m.defaults, ws+"/"+c.Provider)
	}
	return nil
}

func (m *memCredentials) SetDefaultCredential(_ context.Context, ws, provider, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.defaults[ws+"/"+provider] = id
	return nil
}

func (m *memCredentials) DefaultCredential(ctx context.Context, ws, provider string) (*mediatrail.Credential, error) {
	m.mu.Lock()
	id := m.defaults[ws+"/"+provider]
	m.mu.Unlock()
	if id == "" {
		return nil, nil
	}
	return m.FindCredential(ctx, ws, id)
}

func (m *memCredentials) TouchCredential(_ context.Context, ws, id string, at time.Time, valid *bool, _ bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.creds[ws+"/"+id]; ok {
		c.LastUsedAt = &at
		if valid != nil {
			c.IsValid = *valid
		}
		m.creds[ws+"/"+id] = c
	}
	return nil
}

// xorBox is a SecretBox for unit tests: it binds the context into the
// "ciphertext" and counts decryptions (what the cache saves).
type xorBox struct {
	mu       sync.Mutex
	decrypts int
}

func (b *xorBox) Encrypt(_ context.Context, plain []byte, ec map[string]string) ([]byte, error) {
	return append([]byte(fmt.Sprint(ec)+"|"), bytes.ToUpper(plain)...), nil
}

func (b *xorBox) Decrypt(_ context.Context, sealed []byte, ec map[string]string) ([]byte, error) {
	b.mu.Lock()
	b.decrypts++
	b.mu.Unlock()
	prefix := []byte(fmt.Sprint(ec) + "|")
	if !bytes.HasPrefix(sealed, prefix) {
		return nil, errors.New("wrong context")
	}
	return bytes.ToLower(sealed[len(prefix):]), nil
}

// keyedProvider is a provider client carrying the key it was made with.
type keyedProvider struct {
	stubProvider
	name, key, baseURL string
}

func (p keyedProvider) Name() string { return p.name }

// memFactory knows "paid" (takes a key) and "free" (takes none).
type memFactory struct{ platformKey bool }

func (f memFactory) Get(name string) (mediatrail.Provider, error) {
	if name != "paid" && name != "free" {
		return nil, mediatrail.Invalid("provider", "provider must be one of free, paid")
	}
	return keyedProvider{name: name, key: "platform"}, nil
}
func (f memFactory) KeyNeeded(name string) (bool, error) {
	_, err := f.Get(name)
	return name == "paid", err
}
func (f memFactory) PlatformKey(name string) bool { return f.platformKey }
func (f memFactory) WithKey(name string, key mediatrail.Secret, baseURL string) (mediatrail.Provider, error) {
	return keyedProvider{name: name, key: key.Reveal(), baseURL: baseURL}, nil
}
func (f memFactory) CheckKey(context.Context, string, mediatrail.Secret, string) error { return nil }

func newCredentialService(allow bool) (*mediatrail.CredentialService, *xorBox) {
	box := &xorBox{}
	return &mediatrail.CredentialService{Store: newMemCredentials(), Box: box, Providers: memFactory{platformKey: true}, AllowPlatform: allow}, box
}

func create(t *testing.T, s *mediatrail.CredentialService, ws, provider, key string) *mediatrail.Credential {
	t.Helper()
	name := "cred"
	c, err := s.Create(t.Context(), ws, mediatrail.CredentialInput{Name: &name, Provider: &provider, APIKey: &key})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The resolution order, case by case: the tool's credential, the
// workspace's default, the platform key when allowed, else
// credential_missing; keyless providers never need a credential.
func TestResolveOrder(t *testing.T) {
	for _, tc := range []struct {
		name      string
		allow     bool
		setup     func(t *testing.T, s *mediatrail.CredentialService) (toolCred string)
		provider  string
		wantKey   string
		wantCode  string
		wantCreds bool // the choice names a credential
	}{
		{name: "tool credential wins over the default", setup: func(t *testing.T, s *mediatrail.CredentialService) string {
			create(t, s, "ws", "paid", "default-key-1")
			return create(t, s, "ws", "paid", "tool-key-22").ID
		}, provider: "paid", wantKey: "tool-key-22", wantCreds: true},
		{name: "workspace default", setup: func(t *testing.T, s *mediatrail.CredentialService) string {
			create(t, s, "ws", "paid", "default-key-1")
			create(t, s, "ws", "paid", "second-key-2")
			return ""
		}, provider: "paid", wantKey: "default-key-1", wantCreds: true},
		{name: "default beats the platform key", allow: true, setup: func(t *testing.T, s *mediatrail.CredentialService) string {
			create(t, s, "ws", "paid", "default-key-1")
			return ""
		}, provider: "paid", wantKey: "default-key-1", wantCreds: true},
		{name: "another workspace's credential is not used", setup: func(t *testing.T, s *mediatrail.CredentialService) string {
			create(t, s, "other", "paid", "other-key-01")
			return ""
		}, provider: "paid", wantCode: mediatrail.ECREDENTIALMISSING},
		{name: "platform key when allowed", allow: true, provider: "paid", wantKey: "platform"},
		{name: "missing when not allowed", provider: "paid", wantCode: mediatrail.ECREDENTIALMISSING},
		{name: "a deleted tool credential is missing, not a fallback", allow: true, setup: func(t *testing.T, s *mediatrail.CredentialService) string {
			create(t, s, "ws", "paid", "default-key-1")
			c := create(t, s, "ws", "paid", "tool-key-22")
			if err := s.Delete(t.Context(), "ws", c.ID); err != nil {
				t.Fatal(err)
			}
			return c.ID
		}, provider: "paid", wantCode: mediatrail.ECREDENTIALMISSING},
		{name: "keyless provider", provider: "free", wantKey: "platform"},
		{name: "unknown provider", provider: "nope", wantCode: mediatrail.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newCredentialService(tc.allow)
			toolCred := ""
			if tc.setup != nil {
				toolCred = tc.setup(t, s)
			}
			choice, err := s.Resolve(t.Context(), "ws", tc.provider, toolCred)
			if got := mediatrail.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("error %v, want code %q", err, tc.wantCode)
			}
			if err != nil {
				return
			}
			if got := choice.Provider.(keyedProvider).key; got != tc.wantKey {
				t.Errorf("key %q, want %q", got, tc.wantKey)
			}
			if (choice.CredentialID != "") != tc.wantCreds {
				t.Errorf("credential id %q", choice.CredentialID)
			}
		})
	}
}

// A decrypted key is cached (no second KMS call), but a rotation takes
// effect at once and the cache entry expires after CacheTTL.
func TestResolveCachesKeysBriefly(t *testing.T) {
	s, box := newCredentialService(false)
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	s.Now, s.CacheTTL = func() time.Time { return now }, time.Minute
	c := create(t, s, "ws", "paid", "first-key-01")
	resolve := func() string {
		t.Helper()
		choice, err := s.Resolve(t.Context(), "ws", "paid", "")
		if err != nil {
			t.Fatal(err)
		}
		return choice.Provider.(keyedProvider).key
	}
	resolve()
	resolve()
	if box.decrypts != 1 {
		t.Errorf("%d decryptions for two calls, want 1", box.decrypts)
	}
	key := "second-key-02"
	if _, err := s.Update(t.Context(), "ws", c.ID, mediatrail.CredentialInput{APIKey: &key}); err != nil {
		t.Fatal(err)
	}
	if got := resolve(); got != key {
		t.Errorf("after rotation the call used %q", got)
	}
	now = now.Add(2 * time.Minute)
	before := box.decrypts
	resolve()
	if box.decrypts != before+1 {
		t.Error("an expired cache entry was used")
	}
}

// A change made by another process (each route is its own Lambda: PATCH
// runs where no client is cached) reaches a warm media function's cache at
// once: a new base_url misses it as a rotated key does.
func TestCachedClientFollowsChangesFromOtherProcesses(t *testing.T) {
	media, box := newCredentialService(false)
	routes := &mediatrail.CredentialService{Store: media.Store, Box: box, Providers: media.Providers}
	c := create(t, routes, "ws", "paid", "first-key-01")
	client := func() keyedProvider {
		t.Helper()
		choice, err := media.Resolve(t.Context(), "ws", "paid", "")
		if err != nil {
			t.Fatal(err)
		}
		return choice.Provider.(keyedProvider)
	}
	if got := client(); got.baseURL != "" || got.key != "first-key-01" {
		t.Fatalf("first client = %+v", got)
	}
	gateway := "https://gateway.example/v1"
	if _, err := routes.Update(t.Context(), "ws", c.ID, mediatrail.CredentialInput{BaseURL: &gateway}); err != nil {
		t.Fatal(err)
	}
	if got := client(); got.baseURL != gateway {
		t.Errorf("after another process set base_url the call went to %q", got.baseURL)
	}
	key := "second-key-02"
	if _, err := routes.Update(t.Context(), "ws", c.ID, mediatrail.CredentialInput{APIKey: &key}); err != nil {
		t.Fatal(err)
	}
	if got := client(); got.key != key || got.baseURL != gateway {
		t.Errorf("after another process rotated the key the call used %+v", got)
	}
}

// Credentials never show their key, and a ciphertext sealed for another
// record does not open.
func TestCredentialKeyNeverShows(t *testing.T) {
	s, _ := newCredentialService(false)
	c := create(t, s, "ws", "paid", "sk-very-secret-9876")
	if c.KeyHint != "…9876" {
		t.Errorf("hint %q", c.KeyHint)
	}
	for _, text := range []string{fmt.Sprintf("%v %+v %#v %s", c, c, mediatrail.NewSecret("sk-very-secret-9876"), mediatrail.NewSecret("sk-very-secret-9876")), mustMarshal(t, c)} {
		if strings.Contains(text, "sk-very-secret") {
			t.Errorf("the key shows: %s", text)
		}
	}
	other := create(t, s, "ws2", "paid", "sk-other-1234567")
	other.Ciphertext = c.Ciphertext
	if err := s.Store.UpdateCredential(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(t.Context(), "ws2", "paid", ""); mediatrail.ErrorCode(err) != mediatrail.EINTERNAL {
		t.Errorf("a moved ciphertext: %v", err)
	}
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
