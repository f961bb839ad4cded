package stages

import (
	"container/heap"
	"fmt"
	"math/big"
	"net/netip"
)

// DefaultPodCIDR is KWOK's default --cidr, used for pods on nodes without a
// podCIDR.
const DefaultPodCIDR = "10.0.0.0/24"

// IPPool hands out addresses from one CIDR in KWOK's sequence, the address as
// written in the CIDR plus 1, plus 2, … (KWOK counts from the written address,
// not the masked network, and includes the broadcast address), but
// deterministically: the lowest free address first, released addresses reused
// lowest-first, and the same key keeps its address while it holds one. Like
// KWOK, the sequence runs on past the end of the CIDR once the CIDR is used
// up (a /24 holds only 255 pods); it ends at the end of the address family.
// Not safe for concurrent use.
type IPPool struct {
	prefix netip.Prefix // as written
	base   *big.Int     // the written address as a number
	bits   int          // 32 or 128
	limit  *big.Int     // largest offset that stays in the address family
	byKey  map[string]*big.Int
	byOff  map[string]string // offset (decimal) → key
	next   *big.Int          // offsets 1..next have been handed out at some time
	free   offsetHeap        // released offsets ≤ next; may hold stale entries
}

// NewIPPool returns an empty pool for cidr.
func NewIPPool(cidr string) (*IPPool, error) {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR %q: %w", cidr, err)
	}
	addr := prefix.Addr()
	bits := addr.BitLen()
	base := new(big.Int).SetBytes(addr.AsSlice())
	top := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(bits)), big.NewInt(1))
	return &IPPool{
		prefix: prefix,
		base:   base,
		bits:   bits,
		limit:  new(big.Int).Sub(top, base),
		byKey:  map[string]*big.Int{},
		byOff:  map[string]string{},
		next:   new(big.Int),
	}, nil
}

// CIDR returns the pool's CIDR as written.
func (p *IPPool) CIDR() string { return p.prefix.String() }

// InUse returns how many addresses are held.
func (p *IPPool) InUse() int { return len(p.byKey) }

// Lookup returns the address key holds.
func (p *IPPool) Lookup(key string) (string, bool) {
	off, ok := p.byKey[key]
	if !ok {
		return "", false
	}
	return p.addr(off), true
}

// Allocate returns key's address, taking the lowest free one if key holds
// none.
func (p *IPPool) Allocate(key string) (string, error) {
	if off, ok := p.byKey[key]; ok {
		return p.addr(off), nil
	}
	var off *big.Int
	for p.free.Len() > 0 {
		cand := heap.Pop(&p.free).(*big.Int)
		if _, held := p.byOff[cand.String()]; !held {
			off = cand
			break
		}
	}
	for off == nil {
		if p.next.Cmp(p.limit) >= 0 {
			return "", fmt.Errorf("pod CIDR %s: address space exhausted", p.prefix)
		}
		p.next.Add(p.next, big.NewInt(1))
		if _, held := p.byOff[p.next.String()]; !held {
			off = new(big.Int).Set(p.next)
		}
	}
	p.hold(key, off)
	return p.addr(off), nil
}

// Use records that key already holds ip, as KWOK marks the IPs pods report
// when it starts. It returns false, changing nothing, for an address outside
// the CIDR or at or before the written address (never handed out); it fails
// when another key holds ip or key holds a different address.
func (p *IPPool) Use(key, ip string) (bool, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false, fmt.Errorf("pod IP %q: %w", ip, err)
	}
	if !p.prefix.Contains(a) {
		return false, nil
	}
	off := new(big.Int).Sub(new(big.Int).SetBytes(a.AsSlice()), p.base)
	if off.Sign() <= 0 {
		return false, nil
	}
	if holder, held := p.byOff[off.String()]; held {
		if holder != key {
			return false, fmt.Errorf("pod IP %s: held by %q, not %q", ip, holder, key)
		}
		return true, nil
	}
	if cur, ok := p.byKey[key]; ok {
		return false, fmt.Errorf("%q holds %s, not %s", key, p.addr(cur), ip)
	}
	p.hold(key, off)
	return true, nil
}

// Release frees key's address, if any, for reuse.
func (p *IPPool) Release(key string) (string, bool) {
	off, ok := p.byKey[key]
	if !ok {
		return "", false
	}
	delete(p.byKey, key)
	delete(p.byOff, off.String())
	if off.Cmp(p.next) <= 0 {
		heap.Push(&p.free, off)
	}
	return p.addr(off), true
}

func (p *IPPool) hold(key string, off *big.Int) {
	p.byKey[key] = off
	p.byOff[off.String()] = key
}

// addr converts an offset to an address.
func (p *IPPool) addr(off *big.Int) string {
	n := new(big.Int).Add(p.base, off)
	b := n.FillBytes(make([]byte, p.bits/8))
	a, _ := netip.AddrFromSlice(b)
	return a.String()
}

// offsetHeap is a min-heap of offsets.
type offsetHeap []*big.Int

func (h offsetHeap) Len() int           { return len(h) }
func (h offsetHeap) Less(i, j int) bool { return h[i].Cmp(h[j]) < 0 }
func (h offsetHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *offsetHeap) Push(x any)        { *h = append(*h, x.(*big.Int)) }
func (h *offsetHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// IPAM allocates pod IPs per pod CIDR the way KWOK's PodIPsWith does, one
// address per CIDR of the pod's node, keyed by pod so re-renders agree.
// Not safe for concurrent use.
type IPAM struct {
	defaultCIDR string
	pools       map[string]*IPPool
	held        map[string][]string // key → CIDRs it holds an address in
}

// NewIPAM returns an IPAM whose pods on nodes without a podCIDR draw from
// defaultCIDR ("" means DefaultPodCIDR).
func NewIPAM(defaultCIDR string) *IPAM {
	if defaultCIDR == "" {
		defaultCIDR = DefaultPodCIDR
	}
	return &IPAM{defaultCIDR: defaultCIDR, pools: map[string]*IPPool{}, held: map[string][]string{}}
}

// Pool returns the pool for cidr, creating it.
func (m *IPAM) Pool(cidr string) (*IPPool, error) {
	if p, ok := m.pools[cidr]; ok {
		return p, nil
	}
	p, err := NewIPPool(cidr)
	if err != nil {
		return nil, err
	}
	m.pools[cidr] = p
	return p, nil
}

// PodIPs returns key's addresses, one from each of podCIDRs (the default CIDR
// when podCIDRs is empty). Like KWOK it skips a CIDR that does not parse; it
// fails when none does, and the caller falls back to the node IPs as KWOK does.
func (m *IPAM) PodIPs(key string, podCIDRs []string) ([]string, error) {
	if len(podCIDRs) == 0 {
		podCIDRs = []string{m.defaultCIDR}
	}
	var ips []string
	var firstErr error
	for _, cidr := range podCIDRs {
		p, err := m.Pool(cidr)
		if err != nil {
			firstErr = cmpOr(firstErr, err)
			continue
		}
		ip, err := p.Allocate(key)
		if err != nil {
			return nil, err
		}
		m.note(key, cidr)
		ips = append(ips, ip)
	}
	if len(ips) == 0 {
		return nil, firstErr
	}
	return ips, nil
}

// Use records addresses a pod already reports (status.podIPs, in the order
// of podCIDRs), as KWOK does for pods that exist when it starts.
func (m *IPAM) Use(key string, podCIDRs, ips []string) error {
	if len(podCIDRs) == 0 {
		podCIDRs = []string{m.defaultCIDR}
	}
	for i, ip := range ips {
		if i >= len(podCIDRs) {
			break
		}
		p, err := m.Pool(podCIDRs[i])
		if err != nil {
			continue
		}
		ok, err := p.Use(key, ip)
		if err != nil {
			return err
		}
		if ok {
			m.note(key, podCIDRs[i])
		}
	}
	return nil
}

// Release frees every address key holds.
func (m *IPAM) Release(key string) {
	for _, cidr := range m.held[key] {
		m.pools[cidr].Release(key)
	}
	delete(m.held, key)
}

func (m *IPAM) note(key, cidr string) {
	for _, c := range m.held[key] {
		if c == cidr {
			return
		}
	}
	m.held[key] = append(m.held[key], cidr)
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// NodePodCIDRs returns a node's pod CIDRs as KWOK reads them:
// spec.podCIDRs, else spec.podCIDR, else none.
func NodePodCIDRs(node map[string]any) []string {
	spec, _ := node["spec"].(map[string]any)
	var out []string
	if list, _ := spec["podCIDRs"].([]any); len(list) != 0 {
		for _, c := range list {
			if s, ok := c.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	if c, _ := spec["podCIDR"].(string); c != "" {
		return []string{c}
	}
	return nil
}

// NodeHostIPs returns a node's host IPs as KWOK's getNodeHostIPs does:
// InternalIP addresses first, then ExternalIP ones; the first, plus the first
// later one of the other IP family.
func NodeHostIPs(node map[string]any) []string {
	status, _ := node["status"].(map[string]any)
	addrs, _ := status["addresses"].([]any)
	var all []netip.Addr
	for _, typ := range []string{"InternalIP", "ExternalIP"} {
		for _, a := range addrs {
			m, _ := a.(map[string]any)
			if t, _ := m["type"].(string); t != typ {
				continue
			}
			s, _ := m["address"].(string)
			if ip, err := netip.ParseAddr(s); err == nil {
				all = append(all, ip.Unmap())
			}
		}
	}
	if len(all) == 0 {
		return []string{}
	}
	out := []string{all[0].String()}
	for _, ip := range all[1:] {
		if ip.Is6() != all[0].Is6() {
			out = append(out, ip.String())
			break
		}
	}
	return out
}
