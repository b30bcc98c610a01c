package fetch_test

import (
	"net/netip"
	"testing"

	"github.com/mediatrail/mediatrail/shared/fetch"
)

// IPv6 forms that embed an IPv4 address (IPv4-compatible, 6to4, Teredo) are
// judged by the IPv4 address they embed; NAT64 is refused outright.
func TestSecurity_PublicDecodesEmbeddedIPv4(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"::127.0.0.1", false},
		{"::10.0.0.1", false},
		{"::169.254.169.254", false},
		{"::8.8.8.8", true},
		{"2002:7f00:1::", false},             // 6to4 of 127.0.0.1
		{"2002:a9fe:a9fe::1", false},         // 6to4 of 169.254.169.254
		{"2002:c0a8:101::", false},           // 6to4 of 192.168.1.1
		{"2002:808:808::1", true},            // 6to4 of 8.8.8.8
		{"2001:0:808:808::f5ff:fffe", false}, // Teredo, client 10.0.0.1
		{"2001:0:7f00:1::f7f7:f7f7", false},  // Teredo, server 127.0.0.1
		{"2001:0:808:808::f7f7:f7f7", true},  // Teredo, server and client 8.8.8.8
		{"64:ff9b::808:808", false},          // NAT64
		{"64:ff9b::a9fe:a9fe", false},
	} {
		if got := fetch.Public(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Public(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
