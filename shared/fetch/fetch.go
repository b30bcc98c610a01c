// Package fetch downloads user-supplied URLs without letting them reach this
// system's own network: only http(s), only public addresses, checked on the
// address actually dialled (after DNS resolution, so rebinding does not help)
// and again on every redirect, with a size cap and a timeout.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// Defaults for input downloads.
const (
	DefaultTimeout  = 30 * time.Second
	DefaultMaxBytes = 50 << 20
	maxRedirects    = 5
)

// errBlocked marks a dial refused by the address policy.
var errBlocked = errors.New("address not allowed")

// Client fetches public http(s) URLs.
type Client struct {
	http     *http.Client
	maxBytes int64
	allow    func(netip.AddrPort) bool
}

// Options tune a Client.
type Options struct {
	Timeout  time.Duration
	MaxBytes int64
	// Allow, when set, admits a non-public address (tests serve inputs from
	// 127.0.0.1). Production leaves it nil.
	Allow func(netip.AddrPort) bool
}

// New returns a Client enforcing the public-address policy.
func New(o Options) *Client {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	return &Client{maxBytes: o.MaxBytes, http: NewHTTPClient(o), allow: o.Allow}
}

// NewHTTPClient returns an http.Client that dials public addresses only (and
// those o.Allow admits), checked on the resolved address right before
// connecting and again on every redirect: for any request to a URL a client
// of ours chose (inputs, callbacks, a workspace's provider base_url).
func NewHTTPClient(o Options) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	dialer := &net.Dialer{
		Timeout: 10 * time.Second,
		// Control runs for the resolved address, right before connect: no packet
		// ever leaves for a refused address.
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return errBlocked
			}
			if o.Allow != nil && o.Allow(ap) {
				return nil
			}
			if !Public(ap.Addr()) {
				return errBlocked
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would dial on our behalf, past the policy
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: o.Timeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{
		Timeout:   o.Timeout,
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return errors.New("too many redirects")
			}
			return checkScheme(req.URL)
		},
	}
}

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 can reach private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fec0::/10"),
}

// Public reports whether addr is a globally routable unicast address: not
// loopback, private, link-local (incl. the cloud metadata service), unspecified,
// multicast or reserved. IPv4-mapped IPv6 addresses are judged as IPv4, and
// so are the IPv4 addresses IPv4-compatible, 6to4 and Teredo addresses embed;
// NAT64 (64:ff9b::/96) is refused whatever it embeds.
func Public(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() || addr.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(addr) {
			return false
		}
	}
	for _, v4 := range embeddedIPv4(addr) {
		if !Public(v4) {
			return false
		}
	}
	return true
}

// Prefixes of IPv6 addresses that carry an IPv4 address a relay or the host
// stack may route to.
var (
	ipv4Compatible = netip.MustParsePrefix("::/96")     // ::a.b.c.d (deprecated)
	sixToFour      = netip.MustParsePrefix("2002::/16") // 2002:AABB:CCDD::/48
	teredo         = netip.MustParsePrefix("2001::/32") // server and obfuscated client
)

// embeddedIPv4 decodes the IPv4 addresses an IPv6 address embeds (RFC 4291
// IPv4-compatible, RFC 3056 6to4, RFC 4380 Teredo), so that they are judged
// by the same policy as the IPv4 address itself.
func embeddedIPv4(addr netip.Addr) []netip.Addr {
	if !addr.Is6() {
		return nil
	}
	b := addr.As16()
	v4 := func(x [4]byte) netip.Addr { return netip.AddrFrom4(x) }
	switch {
	case ipv4Compatible.Contains(addr):
		return []netip.Addr{v4([4]byte(b[12:16]))}
	case sixToFour.Contains(addr):
		return []netip.Addr{v4([4]byte(b[2:6]))}
	case teredo.Contains(addr):
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		return []netip.Addr{v4([4]byte(b[4:8])), v4(client)}
	}
	return nil
}

func checkScheme(u *url.URL) error {
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return mediatrail.Invalid("input_url", "input_url must be an http or https URL")
	}
	return nil
}

// Body is a fetched response body, capped at the client's limit.
type Body struct {
	io.ReadCloser
	ContentType string
	// Size is the Content-Length, or -1 when unknown.
	Size int64
}

// Get fetches rawURL. Errors are client-facing *mediatrail.Error values:
// EINVALID for a refused URL or address, ETOOLARGE past the size cap,
// EUNPROCESSABLE when the URL cannot be fetched.
func (c *Client) Get(ctx context.Context, rawURL string) (*Body, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, mediatrail.Invalid("input_url", "input_url is not a valid URL")
	}
	if err := checkScheme(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, mediatrail.Invalid("input_url", "input_url is not a valid URL")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var appErr *mediatrail.Error
		switch {
		case errors.As(err, &appErr):
			return nil, appErr
		case errors.Is(err, errBlocked):
			return nil, mediatrail.Invalid("input_url", "input_url must point to a public internet address")
		case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
			return nil, mediatrail.Errorf(mediatrail.EUNPROCESSABLE, "input_url did not answer in time")
		}
		return nil, mediatrail.Errorf(mediatrail.EUNPROCESSABLE, "input_url could not be fetched")
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body.Close()
		return nil, mediatrail.Errorf(mediatrail.EUNPROCESSABLE, "input_url answered HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > c.maxBytes {
		resp.Body.Close()
		return nil, tooLarge(c.maxBytes)
	}
	return &Body{
		ReadCloser:  &capped{rc: resp.Body, left: c.maxBytes, max: c.maxBytes},
		ContentType: resp.Header.Get("Content-Type"),
		Size:        resp.ContentLength,
	}, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func tooLarge(n int64) error {
	limit := fmt.Sprintf("%d bytes", n)
	if n%(1<<20) == 0 {
		limit = fmt.Sprintf("%d MiB", n>>20)
	}
	return mediatrail.TooLarge("", "input must be at most %s", limit)
}

// capped fails with ETOOLARGE once the body passes max bytes.
type capped struct {
	rc        io.ReadCloser
	left, max int64
}

func (c *capped) Read(p []byte) (int, error) {
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return 0, tooLarge(c.max)
	}
	return n, err
}

func (c *capped) Close() error { return c.rc.Close() }
