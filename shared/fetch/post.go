package fetch

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"

	mediatrail "github.com/mediatrail/mediatrail/shared"
)

// maxAnswerBytes is how much of an answer Post reads (and drops) so that the
// connection can be reused.
const maxAnswerBytes = 64 << 10

// Post sends body to rawURL (a caller's callback URL) under the same address
// policy as Get, following no redirects (a redirected POST would lose its
// body), and returns the answer's status. Errors: EINVALID for a refused URL
// or address (field callback_url); EUNPROCESSABLE when the URL could not be
// reached or did not answer in time.
func (c *Client) Post(ctx context.Context, rawURL string, header map[string]string, body []byte) (int, error) {
	u, err := url.Parse(rawURL)
	if err != nil || checkScheme(u) != nil {
		return 0, mediatrail.Invalid("callback_url", "callback_url must be an http or https URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, mediatrail.Invalid("callback_url", "callback_url is not a valid URL")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := *c.http
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	switch {
	case errors.Is(err, errBlocked):
		return 0, mediatrail.Invalid("callback_url", "callback_url must point to a public internet address")
	case err != nil:
		return 0, mediatrail.Errorf(mediatrail.EUNPROCESSABLE, "callback_url could not be reached")
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes))
	return resp.StatusCode, nil
}

// CheckCallback tells at once whether Post may send to rawURL: an http(s)
// URL without credentials whose host is, or resolves only to, addresses the
// policy admits (public ones, and those Options.Allow lists). EINVALID
// (field callback_url) otherwise, also for a host that does not resolve.
// Post checks the address it dials again: DNS may answer differently later.
func (c *Client) CheckCallback(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || checkScheme(u) != nil || u.User != nil {
		return mediatrail.Invalid("callback_url", "callback_url must be an http or https URL without credentials")
	}
	port, err := strconv.ParseUint(cmp.Or(u.Port(), map[string]string{"http": "80", "https": "443"}[u.Scheme]), 10, 16)
	if err != nil {
		return mediatrail.Invalid("callback_url", "callback_url has an invalid port")
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		addrs = []netip.Addr{ip}
	} else if addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname()); err != nil || len(addrs) == 0 {
		return mediatrail.Invalid("callback_url", "callback_url's host %s does not resolve", u.Hostname())
	}
	for _, a := range addrs {
		if !Public(a) && (c.allow == nil || !c.allow(netip.AddrPortFrom(a.Unmap(), uint16(port)))) {
			return mediatrail.Invalid("callback_url", "callback_url must point to a public internet address")
		}
	}
	return nil
}
