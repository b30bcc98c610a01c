package mediatrail

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Credential is a workspace's key for one media provider. The key itself is
// kept only as KMS ciphertext (Ciphertext, never serialized to clients); the
// API shows its last four characters (KeyHint).
//
// The json names are the API's (api.md "Round 2", the SDK's Credential) and
// the stored attribute names.
type Credential struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Provider    string `json:"provider"`
	WorkspaceID string `json:"workspace_id"`
	// IsDefault is computed from the workspace's default pointer for the
	// provider; it is not stored on the credential.
	IsDefault bool `json:"is_default"`
	// IsValid is false once the provider refused the key (a check, or a media
	// call answered 401/403); true when created, rotated or checked fine.
	IsValid bool   `json:"is_valid"`
	KeyHint string `json:"key_hint"`
	// BaseURL replaces the provider's base URL (OpenAI-compatible gateways,
	// proxies); "" uses the deployment's. Reached through the public-address
	// policy only.
	BaseURL    string     `json:"base_url"`
	LastUsedAt *time.Time `json:"last_used_at"`
	CheckedAt  *time.Time `json:"checked_at"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	// Ciphertext is the key encrypted under the credentials KMS key with the
	// encryption context CredentialContext(WorkspaceID, ID).
	Ciphertext []byte `json:"-"`
}

// Secret is a provider key in clear. Its printed, logged and JSON forms are
// redacted, so that a key passed around by mistake does not leak; use
// Reveal where the key is really needed (the provider's auth header).
type Secret struct{ v string }

// NewSecret wraps a key.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the key itself.
func (s Secret) Reveal() string { return s.v }

// Empty reports whether there is no key.
func (s Secret) Empty() bool { return s.v == "" }

func (Secret) String() string               { return "[redacted]" }
func (Secret) GoString() string             { return "[redacted]" }
func (Secret) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// SecretBox encrypts secrets under a key only some functions may use (AWS KMS:
// shared/kms). The encryption context is bound into the ciphertext: Decrypt
// with another context fails, so a ciphertext copied to another workspace's
// record or credential does not decrypt. Errors never carry the plaintext.
type SecretBox interface {
	Encrypt(ctx context.Context, plaintext []byte, encryptionContext map[string]string) ([]byte, error)
	Decrypt(ctx context.Context, ciphertext []byte, encryptionContext map[string]string) ([]byte, error)
}

// CredentialContext is the encryption context of a credential's key.
func CredentialContext(workspaceID, credentialID string) map[string]string {
	return map[string]string{"workspace_id": workspaceID, "credential_id": credentialID, "purpose": "provider-credential"}
}

// CredentialStore keeps credentials and each workspace's default credential
// per provider. Every method is scoped by workspace.
type CredentialStore interface {
	// CreateCredential stores c; when it is the first of its provider in the
	// workspace (no default yet), it becomes the default in the same
	// transaction. It returns whether it became the default.
	CreateCredential(ctx context.Context, c *Credential) (isDefault bool, err error)
	// FindCredential returns a credential, IsDefault set. ENOTFOUND if absent.
	FindCredential(ctx context.Context, workspaceID, id string) (*Credential, error)
	// ListCredentials returns the workspace's credentials, oldest first, IsDefault set.
	ListCredentials(ctx context.Context, workspaceID string) ([]*Credential, error)
	// UpdateCredential replaces a credential's stored fields on condition that
	// it exists. ENOTFOUND if absent.
	UpdateCredential(ctx context.Context, c *Credential) error
	// DeleteCredential removes a credential and, if it was its provider's
	// default, the default pointer, in one transaction. ENOTFOUND if absent.
	DeleteCredential(ctx context.Context, workspaceID, id string) error
	// SetDefaultCredential makes id the default of its provider on condition
	// that it exists. ENOTFOUND if absent.
	SetDefaultCredential(ctx context.Context, workspaceID, provider, id string) error
	// DefaultCredential returns the default credential of provider; nil when
	// the workspace has none.
	DefaultCredential(ctx context.Context, workspaceID, provider string) (*Credential, error)
	// TouchCredential records a use (last_used_at) and, when valid is not
	// nil, the provider's verdict on the key (is_valid, checked_at when
	// checked). Absent credentials are ignored.
	TouchCredential(ctx context.Context, workspaceID, id string, at time.Time, valid *bool, checked bool) error
}

// ProviderFactory builds provider clients: the deployment's own (ProviderSource,
// configured from the environment or the provider secret), and clients
// authenticated with a workspace's key.
type ProviderFactory interface {
	ProviderSource
	// KeyNeeded reports whether provider authenticates with a key (local does
	// not). EINVALID for an unknown provider.
	KeyNeeded(provider string) (bool, error)
	// PlatformKey reports whether the deployment has its own key for provider.
	PlatformKey(provider string) bool
	// WithKey returns a client of provider using key, at baseURL when it is
	// not "" (through the public-address policy).
	WithKey(provider string, key Secret, baseURL string) (Provider, error)
	// CheckKey makes one cheap authenticated call (listing models, reading the
	// account). nil: the key works; a *ProviderError with status 401 or 403:
	// refused; any other error: the provider could not tell.
	CheckKey(ctx context.Context, provider string, key Secret, baseURL string) error
}

// Limits of credentials.
const (
	MaxCredentialsPerWorkspace = 100
	maxCredentialNameBytes     = 128
	maxAPIKeyBytes             = 4096
	maxBaseURLBytes            = 2048
	// DefaultCredentialCacheTTL bounds how long a warm function keeps a
	// decrypted key (the record is read on every call, so a rotation or a
	// deletion takes effect at once; the cache saves only KMS calls).
	DefaultCredentialCacheTTL = 5 * time.Minute
	credentialCacheMax        = 256
	// touchEvery throttles last_used_at writes per credential and process.
	touchEvery = time.Minute
)

// CredentialInput is the body of POST /api/v1/credentials and PATCH
// /api/v1/credentials/{id} (where every field is optional and provider
// cannot change).
type CredentialInput struct {
	Name     *string `json:"name"`
	Provider *string `json:"provider"`
	APIKey   *string `json:"api_key"`
	BaseURL  *string `json:"base_url"`
}

// CredentialService manages workspace credentials and resolves the provider
// client of a media call (Resolve).
type CredentialService struct {
	Store     CredentialStore
	Box       SecretBox // nil: workspace credentials are not offered (EUNAVAILABLE)
	Providers ProviderFactory
	// AllowPlatform lets calls without a workspace credential use the
	// deployment's own keys (AllowPlatformCredentials).
	AllowPlatform bool
	CacheTTL      time.Duration // 0: DefaultCredentialCacheTTL
	Now           func() time.Time
	Logger        *slog.Logger

	mu      sync.Mutex
	clients map[string]cachedClient // by workspace/id, valid for one ciphertext and base URL
	touched map[string]time.Time
}

// cachedClient is valid for one ciphertext and base URL: a rotation or a new
// base_url, made by another function's process, misses the cache at once.
type cachedClient struct {
	provider   Provider
	ciphertext [sha256.Size]byte
	baseURL    string
	expires    time.Time
}

func (s *CredentialService) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *CredentialService) logger() *slog.Logger { return cmp.Or(s.Logger, slog.Default()) }

func errCredentialNotFound() *Error { return Errorf(ENOTFOUND, "credential not found") }

// keyHint is what the API shows of a key: its last four characters.
func keyHint(key string) string {
	r := []rune(key)
	if len(r) < 8 {
		return "…"
	}
	return "…" + string(r[len(r)-4:])
}

func (s *CredentialService) box() (SecretBox, error) {
	if s.Box == nil {
		return nil, Errorf(EUNAVAILABLE, "workspace credentials are not configured on this server")
	}
	return s.Box, nil
}

func validateCredentialName(name string) error {
	switch n := strings.TrimSpace(name); {
	case n == "":
		return Invalid("name", "name is required")
	case len(n) > maxCredentialNameBytes || !utf8.ValidString(n):
		return Invalid("name", "name must be valid UTF-8 of at most %d bytes", maxCredentialNameBytes)
	}
	return nil
}

func validateAPIKey(key string) error {
	switch k := strings.TrimSpace(key); {
	case k == "":
		return Invalid("api_key", "api_key is required")
	case len(k) > maxAPIKeyBytes:
		return Invalid("api_key", "api_key must be at most %d bytes", maxAPIKeyBytes)
	case strings.ContainsAny(k, "\r\n\x00") || !utf8.ValidString(k):
		return Invalid("api_key", "api_key must be one line of text")
	}
	return nil
}

// validateBaseURL admits http(s) URLs without credentials, query or fragment.
// Where they lead is checked when they are dialled (public addresses only).
func validateBaseURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || len(raw) > maxBaseURLBytes || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Invalid("base_url", "base_url must be an http or https URL without credentials, query or fragment")
	}
	return nil
}

// providerName normalises and checks a provider name: one that takes a key.
func (s *CredentialService) providerName(name string) (string, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return "", Invalid("provider", "provider is required")
	}
	needs, err := s.Providers.KeyNeeded(name)
	if err != nil {
		return "", err
	}
	if !needs {
		return "", Invalid("provider", "provider %s takes no credential", name)
	}
	return name, nil
}

// List returns the workspace's credentials, oldest first.
func (s *CredentialService) List(ctx context.Context, ws string) ([]*Credential, error) {
	return s.Store.ListCredentials(ctx, ws)
}

// Get returns one credential. ENOTFOUND for another workspace's.
func (s *CredentialService) Get(ctx context.Context, ws, id string) (*Credential, error) {
	if !ValidID(id) {
		return nil, errCredentialNotFound()
	}
	return s.Store.FindCredential(ctx, ws, id)
}

// Create stores a credential, its key encrypted under the workspace and its
// new id. The first credential of a provider becomes its default. EINVALID
// for a missing name, provider or key, an unknown provider or one without
// keys (local), or a malformed base_url; ECONFLICT past
// MaxCredentialsPerWorkspace.
func (s *CredentialService) Create(ctx context.Context, ws string, in CredentialInput) (*Credential, error) {
	var name, provider, key, baseURL string
	for _, f := range []struct {
		v   *string
		dst *string
	}{{in.Name, &name}, {in.Provider, &provider}, {in.APIKey, &key}, {in.BaseURL, &baseURL}} {
		if f.v != nil {
			*f.dst = strings.TrimSpace(*f.v)
		}
	}
	if err := validateCredentialName(name); err != nil {
		return nil, err
	}
	provider, err := s.providerName(provider)
	if err != nil {
		return nil, err
	}
	if err := validateAPIKey(key); err != nil {
		return nil, err
	}
	if err := validateBaseURL(baseURL); err != nil {
		return nil, err
	}
	box, err := s.box()
	if err != nil {
		return nil, err
	}
	existing, err := s.Store.ListCredentials(ctx, ws)
	if err != nil {
		return nil, err
	}
	if len(existing) >= MaxCredentialsPerWorkspace {
		return nil, Errorf(ECONFLICT, "a workspace holds at most %d credentials; delete one first", MaxCredentialsPerWorkspace)
	}
	now := s.now()
	c := &Credential{
		ID: NewIDAt(now), Name: name, Provider: provider, WorkspaceID: ws, IsValid: true,
		KeyHint: keyHint(key), BaseURL: baseURL, CreatedAt: now, UpdatedAt: now,
	}
	if c.Ciphertext, err = box.Encrypt(ctx, []byte(key), CredentialContext(ws, c.ID)); err != nil {
		return nil, fmt.Errorf("encrypt credential: %w", err)
	}
	if c.IsDefault, err = s.Store.CreateCredential(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Update renames a credential, rotates its key (api_key) or changes its
// base_url. A new key is valid until refused. provider cannot change.
func (s *CredentialService) Update(ctx context.Context, ws, id string, in CredentialInput) (*Credential, error) {
	c, err := s.Get(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	if in.Provider != nil && !strings.EqualFold(strings.TrimSpace(*in.Provider), c.Provider) {
		return nil, Invalid("provider", "a credential's provider cannot change; create another credential")
	}
	if in.Name == nil && in.APIKey == nil && in.BaseURL == nil {
		return nil, Invalid("body", "give name, api_key or base_url to change")
	}
	if in.Name != nil {
		if err := validateCredentialName(*in.Name); err != nil {
			return nil, err
		}
		c.Name = strings.TrimSpace(*in.Name)
	}
	if in.BaseURL != nil {
		if err := validateBaseURL(strings.TrimSpace(*in.BaseURL)); err != nil {
			return nil, err
		}
		c.BaseURL = strings.TrimSpace(*in.BaseURL)
	}
	if in.APIKey != nil {
		key := strings.TrimSpace(*in.APIKey)
		if err := validateAPIKey(key); err != nil {
			return nil, err
		}
		box, err := s.box()
		if err != nil {
			return nil, err
		}
		if c.Ciphertext, err = box.Encrypt(ctx, []byte(key), CredentialContext(ws, c.ID)); err != nil {
			return nil, fmt.Errorf("encrypt credential: %w", err)
		}
		c.KeyHint, c.IsValid, c.CheckedAt = keyHint(key), true, nil
	}
	c.UpdatedAt = s.now()
	if err := s.Store.UpdateCredential(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Delete removes a credential. When it was its provider's default, the
// oldest remaining credential of that provider becomes the default.
func (s *CredentialService) Delete(ctx context.Context, ws, id string) error {
	c, err := s.Get(ctx, ws, id)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteCredential(ctx, ws, id); err != nil {
		return err
	}
	if !c.IsDefault {
		return nil
	}
	rest, err := s.Store.ListCredentials(ctx, ws)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(rest, func(o *Credential) bool { return o.Provider == c.Provider }); i >= 0 {
		if err := s.Store.SetDefaultCredential(ctx, ws, c.Provider, rest[i].ID); err != nil && !IsNotFound(err) {
			return err
		}
	}
	return nil
}

// SetDefault makes a credential the workspace's default for its provider.
func (s *CredentialService) SetDefault(ctx context.Context, ws, id string) (*Credential, error) {
	c, err := s.Get(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	if err := s.Store.SetDefaultCredential(ctx, ws, c.Provider, c.ID); err != nil {
		return nil, err
	}
	c.IsDefault = true
	return c, nil
}

// Check makes one cheap authenticated call to the provider with the
// credential's key and records the verdict (is_valid, checked_at). A refusal
// (401/403) makes it invalid; a provider that cannot tell (5xx, timeout)
// leaves is_valid as it was and answers that provider's error.
func (s *CredentialService) Check(ctx context.Context, ws, id string) (*Credential, error) {
	c, err := s.Get(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	key, err := s.decrypt(ctx, c)
	if err != nil {
		return nil, err
	}
	err = s.Providers.CheckKey(ctx, c.Provider, key, c.BaseURL)
	var pe *ProviderError
	switch {
	case err == nil:
		c.IsValid = true
	case errors.As(err, &pe) && (pe.Status == 401 || pe.Status == 403):
		c.IsValid = false
	default:
		return nil, err
	}
	now := s.now()
	c.CheckedAt = &now
	if err := s.Store.TouchCredential(ctx, ws, id, now, &c.IsValid, true); err != nil {
		return nil, err
	}
	c.LastUsedAt = &now
	return c, nil
}

// decrypt opens a credential's key. A ciphertext that does not decrypt under
// the credential's own context (moved from another record) is an internal
// error: logged, never detailed to the client.
func (s *CredentialService) decrypt(ctx context.Context, c *Credential) (Secret, error) {
	box, err := s.box()
	if err != nil {
		return Secret{}, err
	}
	plain, err := box.Decrypt(ctx, c.Ciphertext, CredentialContext(c.WorkspaceID, c.ID))
	if err != nil {
		return Secret{}, fmt.Errorf("decrypt credential %s of workspace %s: %w", c.ID, c.WorkspaceID, err)
	}
	return NewSecret(string(plain)), nil
}

// ProviderChoice is the provider client of a media call and where its key
// came from.
type ProviderChoice struct {
	Provider Provider
	// CredentialID is the workspace credential used; "" for the deployment's
	// own key (or a provider that takes none).
	CredentialID string
}

// Resolve picks the provider client of a media call, in this order (the one
// place that decides it):
//
//  1. the tool's credential (toolCredentialID), when the call names a tool
//     that has one;
//  2. the workspace's default credential for the provider;
//  3. the deployment's own key (environment or provider secret), only when
//     AllowPlatform is set (template parameter AllowPlatformCredentials);
//  4. otherwise 422 credential_missing, naming the provider and how to add a
//     credential.
//
// A provider that takes no key (local) is always the deployment's. A tool's
// credential that is gone (deleted, or of another provider) is
// credential_missing too, never a silent fallback.
func (s *CredentialService) Resolve(ctx context.Context, ws, provider, toolCredentialID string) (ProviderChoice, error) {
	platform, err := s.Providers.Get(provider)
	if err != nil {
		return ProviderChoice{}, err
	}
	name := platform.Name()
	if needs, err := s.Providers.KeyNeeded(name); err != nil || !needs {
		return ProviderChoice{Provider: platform}, err
	}
	var c *Credential
	if toolCredentialID != "" {
		if c, err = s.Get(ctx, ws, toolCredentialID); IsNotFound(err) || err == nil && c.Provider != name {
			return ProviderChoice{}, Errorf(ECREDENTIALMISSING, "the tool's credential %s for provider %s no longer exists; attach another credential to the tool (PATCH /api/v1/media-tools/{id})", toolCredentialID, name).
				With("provider", name).With("credential_id", toolCredentialID)
		} else if err != nil {
			return ProviderChoice{}, err
		}
	} else if s.Store != nil {
		if c, err = s.Store.DefaultCredential(ctx, ws, name); err != nil {
			return ProviderChoice{}, err
		}
	}
	if c == nil {
		if s.AllowPlatform {
			return ProviderChoice{Provider: platform}, nil
		}
		return ProviderChoice{}, Errorf(ECREDENTIALMISSING, "no credential for provider %s in this workspace: add one with POST /api/v1/credentials {\"name\", \"provider\": %q, \"api_key\"}", name, name).
			With("provider", name)
	}
	p, err := s.client(ctx, c)
	if err != nil {
		return ProviderChoice{}, err
	}
	s.touch(ctx, c, nil)
	return ProviderChoice{Provider: p, CredentialID: c.ID}, nil
}

// client is the provider client of a credential, from the cache while its
// ciphertext is the one cached and its entry is younger than CacheTTL.
func (s *CredentialService) client(ctx context.Context, c *Credential) (Provider, error) {
	k, sum := c.WorkspaceID+"/"+c.ID, sha256.Sum256(c.Ciphertext)
	now := s.now()
	s.mu.Lock()
	if e, ok := s.clients[k]; ok && e.ciphertext == sum && e.baseURL == c.BaseURL && now.Before(e.expires) {
		s.mu.Unlock()
		return e.provider, nil
	}
	s.mu.Unlock()
	key, err := s.decrypt(ctx, c)
	if err != nil {
		return nil, err
	}
	p, err := s.Providers.WithKey(c.Provider, key, c.BaseURL)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clients == nil {
		s.clients = map[string]cachedClient{}
	}
	if len(s.clients) >= credentialCacheMax {
		for k, e := range s.clients {
			if !now.Before(e.expires) || len(s.clients) >= credentialCacheMax {
				delete(s.clients, k)
			}
		}
	}
	s.clients[k] = cachedClient{provider: p, ciphertext: sum, baseURL: c.BaseURL, expires: now.Add(cmp.Or(s.CacheTTL, DefaultCredentialCacheTTL))}
	return p, nil
}

func (s *CredentialService) forget(ws, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, ws+"/"+id)
}

// touch records a use of the credential, at most once a minute per process,
// and the provider's verdict when it refused the key. Best effort: a failed
// write is logged, the call goes on.
func (s *CredentialService) touch(ctx context.Context, c *Credential, valid *bool) {
	now := s.now()
	k := c.WorkspaceID + "/" + c.ID
	s.mu.Lock()
	if s.touched == nil {
		s.touched = map[string]time.Time{}
	}
	skip := valid == nil && now.Sub(s.touched[k]) < touchEvery
	if !skip {
		if len(s.touched) >= credentialCacheMax {
			clear(s.touched)
		}
		s.touched[k] = now
	}
	s.mu.Unlock()
	if skip {
		return
	}
	if err := s.Store.TouchCredential(ctx, c.WorkspaceID, c.ID, now, valid, false); err != nil {
		s.logger().Warn("record credential use", "workspace", c.WorkspaceID, "credential", c.ID, "err", err)
	}
}

// Refused records that the provider refused a credential's key (401/403 in
// a media call): it becomes invalid until rotated or checked.
func (s *CredentialService) Refused(ctx context.Context, ws, id string) {
	invalid := false
	s.touch(ctx, &Credential{WorkspaceID: ws, ID: id}, &invalid)
	s.forget(ws, id)
}

// authFailure turns a provider's refusal of a workspace credential into 424
// provider_auth_failed naming the credential, so the workspace knows which key
// to fix. The deployment's own key failing stays the provider's 502 without
// details.
func authFailure(err error, credentialID string) error {
	var pe *ProviderError
	if credentialID == "" || !errors.As(err, &pe) || (pe.Status != 401 && pe.Status != 403) {
		return err
	}
	return Errorf(EPROVIDERAUTH, "provider %s rejected credential %s; rotate its api_key (PATCH /api/v1/credentials/%s) or check it (POST /api/v1/credentials/%s/check)", pe.Provider, credentialID, credentialID, credentialID).
		With("provider", pe.Provider).With("credential_id", credentialID).With("provider_status", pe.Status)
}
