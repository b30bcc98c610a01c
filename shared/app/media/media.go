package media

import (
	"cmp"
	"context"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	mediatrail "github.com/mediatrail/mediatrail/shared"
	"github.com/mediatrail/mediatrail/shared/fetch"
	"github.com/mediatrail/mediatrail/shared/providers"
)

// downloaders are the downloaders of callers' inputs and of providers'
// outputs; getenv holds the providers' base URLs (see providers.FromEnv).
func downloaders(mc mediatrail.MediaConfig, getenv func(string) string) (inputs, outputs mediatrail.Downloader) {
	// Callers' URLs: public addresses only, unless a test lists its servers.
	inputs = downloader{fetch.New(fetch.Options{
		Timeout: mc.Timeout, MaxBytes: mediatrail.MaxInputBytes, Allow: allowOnly(mc.AllowPrivateInputs),
	})}
	// Providers' output URLs: public addresses and the providers' own.
	outputs = downloader{fetch.New(fetch.Options{
		Timeout: mc.Timeout, MaxBytes: mediatrail.DefaultMaxOutputBytes, Allow: allowOnly(providerAddrs(getenv)),
	})}
	return inputs, outputs
}

// providerAddrs are the addresses of the providers' base URLs that are IP
// literals: where provider outputs may come from besides public addresses
// (fakes on 127.0.0.1 in tests). Production base URLs are public names:
// nothing more.
func providerAddrs(getenv func(string) string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, k := range providers.EnvNames() {
		if ap, ok := literalAddr(getenv(k)); ok && strings.HasSuffix(k, "_BASE_URL") {
			out = append(out, ap)
		}
	}
	return out
}

// literalAddr is the address of a URL whose host is an IP literal.
func literalAddr(raw string) (netip.AddrPort, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return netip.AddrPort{}, false
	}
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(cmp.Or(u.Port(), map[string]string{"http": "80", "https": "443"}[u.Scheme]), 10, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), true
}

// allowOnly admits exactly the listed addresses; nil when there are none.
func allowOnly(list []netip.AddrPort) func(netip.AddrPort) bool {
	if len(list) == 0 {
		return nil
	}
	return func(ap netip.AddrPort) bool {
		return slices.Contains(list, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
	}
}

// downloader adapts a fetch.Client to the domain's Downloader.
type downloader struct{ *fetch.Client }

func (d downloader) Download(ctx context.Context, rawURL string) (*mediatrail.Download, error) {
	b, err := d.Get(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	return &mediatrail.Download{Body: b, ContentType: b.ContentType, Size: b.Size}, nil
}
