// Package guard holds the limits keyed by client address that protect the
// service before any credential is checked: which address a request comes
// from (behind trusted proxies), how many streams one address may hold open,
// and how often it may fail to authenticate. Each limit is in memory, per
// process, and bounded in size.
package guard

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Addresses finds the client address of a request. Without trusted proxies
// it is the connection's peer; a peer inside TrustedProxies hands over to
// the right-most X-Forwarded-For entry that is not itself trusted, so a
// client cannot choose its own address by sending the header.
type Addresses struct {
	TrustedProxies []netip.Prefix
}

// ParsePrefixes reads a comma-separated list of CIDR prefixes or single
// addresses (LIVENESS_TRUSTED_PROXIES).
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			a, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("guard: trusted proxy %q: %w", item, err)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("guard: trusted proxy %q: %w", item, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Of returns the client address of r as a limit key: an IPv4 address, or
// the /64 network of an IPv6 address (one subscriber usually holds a whole
// /64, so per-address limits would otherwise not bind). A peer address that
// cannot be parsed is returned as is.
func (a Addresses) Of(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || host == "" {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if a.trusted(peer) {
		hops := r.Header.Values("X-Forwarded-For")
		var list []string
		for _, h := range hops {
			list = append(list, strings.Split(h, ",")...)
		}
		for i := len(list) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(list[i]))
			if err != nil {
				break // a malformed hop: stop at the last address we can trust
			}
			peer = hop.Unmap()
			if !a.trusted(peer) {
				break
			}
		}
	}
	return key(peer)
}

func (a Addresses) trusted(ip netip.Addr) bool {
	for _, p := range a.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func key(ip netip.Addr) string {
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
