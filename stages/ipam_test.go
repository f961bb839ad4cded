package stages

import (
	"slices"
	"strings"
	"testing"
)

func TestIPPool(t *testing.T) {
	p, err := NewIPPool("10.0.0.0/30")
	if err != nil {
		t.Fatal(err)
	}
	alloc := func(key string) string {
		t.Helper()
		ip, err := p.Allocate(key)
		if err != nil {
			t.Fatal(err)
		}
		return ip
	}
	// KWOK's sequence: the written address + 1, + 2, …
	if got := []string{alloc("a"), alloc("b"), alloc("c")}; !slices.Equal(got, []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}) {
		t.Errorf("first three = %v", got)
	}
	if ip := alloc("b"); ip != "10.0.0.2" {
		t.Errorf("b again = %s, want its own address", ip)
	}
	// Past the end of the CIDR, as KWOK goes on.
	if ip := alloc("d"); ip != "10.0.0.4" {
		t.Errorf("d = %s, want 10.0.0.4", ip)
	}
	p.Release("c")
	p.Release("a")
	if ip := alloc("e"); ip != "10.0.0.1" {
		t.Errorf("e = %s, want the lowest released 10.0.0.1", ip)
	}
	if ip := alloc("f"); ip != "10.0.0.3" {
		t.Errorf("f = %s, want 10.0.0.3", ip)
	}
	if ip := alloc("g"); ip != "10.0.0.5" {
		t.Errorf("g = %s, want 10.0.0.5", ip)
	}
	if ip, ok := p.Lookup("f"); !ok || ip != "10.0.0.3" {
		t.Errorf("Lookup(f) = %s %v", ip, ok)
	}
	if _, ok := p.Release("zz"); ok {
		t.Error("released an unknown key")
	}
	if p.InUse() != 5 {
		t.Errorf("InUse = %d, want 5", p.InUse())
	}
}

func TestIPPoolUse(t *testing.T) {
	p, _ := NewIPPool("10.0.0.0/24")
	for _, tc := range []struct {
		key, ip string
		ok      bool
		err     string
	}{
		{"x", "10.0.0.3", true, ""},
		{"x", "10.0.0.3", true, ""},
		{"y", "10.0.0.3", false, "held by"},
		{"x", "10.0.0.4", false, "holds"},
		{"z", "10.1.0.1", false, ""},
		{"z", "10.0.0.0", false, ""},
		{"z", "bogus", false, "pod IP"},
	} {
		ok, err := p.Use(tc.key, tc.ip)
		if ok != tc.ok || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Use(%s, %s) = %v, %v; want %v, %q", tc.key, tc.ip, ok, err, tc.ok, tc.err)
		}
	}
	var got []string
	for _, k := range []string{"a", "b", "c"} {
		ip, _ := p.Allocate(k)
		got = append(got, ip)
	}
	if !slices.Equal(got, []string{"10.0.0.1", "10.0.0.2", "10.0.0.4"}) {
		t.Errorf("allocations around a used address = %v", got)
	}
}

func TestIPPoolLimits(t *testing.T) {
	p, err := NewIPPool("255.255.255.254/31")
	if err != nil {
		t.Fatal(err)
	}
	if ip, err := p.Allocate("a"); err != nil || ip != "255.255.255.255" {
		t.Errorf("Allocate = %s, %v", ip, err)
	}
	if _, err := p.Allocate("b"); err == nil {
		t.Error("allocated past the end of the address space")
	}
	v6, err := NewIPPool("fd00::/64")
	if err != nil {
		t.Fatal(err)
	}
	if ip, _ := v6.Allocate("a"); ip != "fd00::1" {
		t.Errorf("v6 = %s", ip)
	}
	if _, err := NewIPPool("10.0.0.0"); err == nil {
		t.Error("NewIPPool accepted an address without a prefix")
	}
}

func TestIPAM(t *testing.T) {
	m := NewIPAM("")
	ips, err := m.PodIPs("ns/a", nil)
	if err != nil || !slices.Equal(ips, []string{"10.0.0.1"}) {
		t.Errorf("default CIDR: %v, %v", ips, err)
	}
	ips, err = m.PodIPs("ns/b", []string{"10.244.1.0/24", "fd00:1::/64"})
	if err != nil || !slices.Equal(ips, []string{"10.244.1.1", "fd00:1::1"}) {
		t.Errorf("dual stack: %v, %v", ips, err)
	}
	again, _ := m.PodIPs("ns/b", []string{"10.244.1.0/24", "fd00:1::/64"})
	if !slices.Equal(ips, again) {
		t.Errorf("re-render gave %v, want %v", again, ips)
	}
	ips, err = m.PodIPs("ns/c", []string{"bogus", "10.244.1.0/24"})
	if err != nil || !slices.Equal(ips, []string{"10.244.1.2"}) {
		t.Errorf("skip a bad CIDR: %v, %v", ips, err)
	}
	if _, err := m.PodIPs("ns/d", []string{"bogus"}); err == nil {
		t.Error("no error when no CIDR parses")
	}
	m.Release("ns/b")
	ips, _ = m.PodIPs("ns/e", []string{"10.244.1.0/24", "fd00:1::/64"})
	if !slices.Equal(ips, []string{"10.244.1.1", "fd00:1::1"}) {
		t.Errorf("after release: %v", ips)
	}
	if err := m.Use("ns/f", []string{"10.244.2.0/24"}, []string{"10.244.2.7"}); err != nil {
		t.Fatal(err)
	}
	if ip, ok := m.pools["10.244.2.0/24"].Lookup("ns/f"); !ok || ip != "10.244.2.7" {
		t.Errorf("Use: %s %v", ip, ok)
	}
}

func TestNodeHelpers(t *testing.T) {
	for _, tc := range []struct {
		name, node string
		cidrs, ips []string
	}{
		{"none", `{}`, nil, []string{}},
		{"podCIDR", `{"spec": {"podCIDR": "10.1.0.0/24"}}`, []string{"10.1.0.0/24"}, []string{}},
		{"podCIDRs win", `{"spec": {"podCIDR": "10.1.0.0/24", "podCIDRs": ["10.2.0.0/24", "fd00::/64"]}}`,
			[]string{"10.2.0.0/24", "fd00::/64"}, []string{}},
		{"internal before external, one per family", `{"status": {"addresses": [
			{"type": "ExternalIP", "address": "1.2.3.4"},
			{"type": "Hostname", "address": "n"},
			{"type": "InternalIP", "address": "10.0.0.9"},
			{"type": "InternalIP", "address": "10.0.0.10"},
			{"type": "InternalIP", "address": "fd00::9"}]}}`, nil, []string{"10.0.0.9", "fd00::9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := mustObject(t, tc.node)
			if got := NodePodCIDRs(node); !slices.Equal(got, tc.cidrs) {
				t.Errorf("NodePodCIDRs = %v, want %v", got, tc.cidrs)
			}
			if got := NodeHostIPs(node); !slices.Equal(got, tc.ips) {
				t.Errorf("NodeHostIPs = %v, want %v", got, tc.ips)
			}
		})
	}
}

func TestObject(t *testing.T) {
	type meta struct {
		Name string `json:"name"`
		N    int64  `json:"n"`
	}
	m, err := Object(struct {
		Metadata meta `json:"metadata"`
	}{meta{"p", 3}})
	if err != nil {
		t.Fatal(err)
	}
	md := m["metadata"].(map[string]any)
	if md["name"] != "p" || md["n"] != 3.0 {
		t.Errorf("Object = %#v", m)
	}
	if _, err := Object([]int{1}); err == nil {
		t.Error("Object accepted a list")
	}
}
