package sim

import (
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	apiservice "k8s.io/kubernetes/pkg/api/service"
	core "k8s.io/kubernetes/pkg/apis/core"
	"k8s.io/kubernetes/pkg/apis/core/validation"
)

// What kube-apiserver's Service REST does before the strategy validates a Service: its
// BeginCreate and BeginUpdate hooks (pkg/registry/core/service/storage/storage.go beginCreate,
// beginUpdate) fill in the IP families and allocate cluster IPs and node ports
// (storage/alloc.go allocateCreate, allocateUpdate). Validation requires them: a Service that
// needs a cluster IP and has none, or a NodePort Service without node ports, is invalid.
//
// The simulated cluster is single-stack IPv4 with kubeadm's ranges: cluster IPs from
// 10.96.0.0/12 (--service-cluster-ip-range), node ports from 30000-32767
// (--service-node-port-range, kube-apiserver's default).
//
// Deliberate deviation: the real allocators pick at random in the upper ("dynamic") band of
// each range, then in the lower one (KEP-3070; ipallocator.go AllocateNextService, the
// portallocator's allocation map with offset). kwoksim takes the lowest free value of the same
// band, then of the lower one, so that a run is reproducible. What is in use is read from the
// stored Services, so a deleted Service frees its values, as afterDelete releases them.
var (
	serviceCIDR = netip.MustParsePrefix("10.96.0.0/12")
	// serviceIPFirst skips the network address; serviceIPOffset is the start of the dynamic
	// band: min(max(16, size/16), 256) addresses above the first (ipallocator calculateRangeOffset).
	serviceIPFirst  = serviceCIDR.Addr().Next()
	serviceIPOffset = 256
	// serviceIPLast skips the broadcast address of 10.96.0.0/12.
	serviceIPLast = netip.MustParseAddr("10.111.255.254")
)

const (
	nodePortBase = 30000
	nodePortLast = 32767
	// nodePortOffset is the start of the dynamic band: min(max(16, size/32), 128)
	// (portallocator calculateRangeOffset for 2768 ports).
	nodePortOffset = (nodePortLast - nodePortBase + 1) / 32
	nodePortRange  = "30000-32767"
)

// serviceAllocations are the cluster IPs and node ports other Services hold.
type serviceAllocations struct {
	ips   map[netip.Addr]bool
	ports map[int32]bool
}

// serviceAllocations reads what every stored Service (kind k) but ns/name holds.
func (a *API) serviceAllocations(k *Kind, ns, name string) (*serviceAllocations, error) {
	list, err := a.List(k)
	if err != nil {
		return nil, err
	}
	used := &serviceAllocations{ips: map[netip.Addr]bool{}, ports: map[int32]bool{}}
	for _, o := range list {
		s := o.(*corev1.Service)
		if s.Namespace == ns && s.Name == name {
			continue
		}
		for _, ip := range s.Spec.ClusterIPs {
			if addr, err := netip.ParseAddr(ip); err == nil {
				used.ips[addr] = true
			}
		}
		for _, p := range s.Spec.Ports {
			if p.NodePort != 0 {
				used.ports[p.NodePort] = true
			}
		}
		if s.Spec.HealthCheckNodePort != 0 {
			used.ports[s.Spec.HealthCheckNodePort] = true
		}
	}
	return used, nil
}

// serviceBeginCreate follows storage.go beginCreate and alloc.go allocateCreate.
func serviceBeginCreate(a *API, k *Kind, obj runtime.Object) error {
	svc := obj.(*core.Service)
	normalizeClusterIPs(svc, nil)
	if err := initIPFamilyFields(svc, nil); err != nil {
		return err
	}
	used, err := a.serviceAllocations(k, svc.Namespace, svc.Name)
	if err != nil {
		return err
	}
	if err := used.allocClusterIPs(svc); err != nil {
		return err
	}
	if svc.Spec.Type == core.ServiceTypeNodePort || svc.Spec.Type == core.ServiceTypeLoadBalancer {
		if err := used.initNodePorts(svc); err != nil {
			return err
		}
	}
	if apiservice.NeedsHealthCheck(svc) {
		return used.allocHealthCheckNodePort(svc)
	}
	return nil
}

// serviceBeginUpdate follows storage.go beginUpdate and alloc.go allocateUpdate: values the
// client left out are kept (patchAllocatedValues), a type change allocates what the new type
// needs; what the old one held and the new one does not is freed by no longer being stored.
func serviceBeginUpdate(a *API, k *Kind, obj, old runtime.Object) error {
	svc, oldSvc := obj.(*core.Service), old.(*core.Service)
	patchAllocatedValues(svc, oldSvc)
	normalizeClusterIPs(svc, oldSvc)
	if err := initIPFamilyFields(svc, oldSvc); err != nil {
		return err
	}
	used, err := a.serviceAllocations(k, svc.Namespace, svc.Name)
	if err != nil {
		return err
	}
	// updateClusterIPs, case A: from ExternalName to a type with a cluster IP. (The other cases
	// change the number of families, which a single-stack cluster refuses above.)
	if oldSvc.Spec.Type == core.ServiceTypeExternalName && svc.Spec.Type != core.ServiceTypeExternalName {
		if err := used.allocClusterIPs(svc); err != nil {
			return err
		}
	}
	if svc.Spec.Type == core.ServiceTypeNodePort || svc.Spec.Type == core.ServiceTypeLoadBalancer {
		if err := used.updateNodePorts(svc, oldSvc); err != nil {
			return err
		}
	}
	if !apiservice.NeedsHealthCheck(oldSvc) && apiservice.NeedsHealthCheck(svc) {
		return used.allocHealthCheckNodePort(svc)
	}
	return nil
}

// normalizeClusterIPs follows storage.go normalizeClusterIPs: an old client sets clusterIP
// alone, and clusterIPs follows it.
func normalizeClusterIPs(svc, old *core.Service) {
	if old == nil {
		if svc.Spec.ClusterIP != "" && len(svc.Spec.ClusterIPs) == 0 {
			svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
		}
		return
	}
	if len(old.Spec.ClusterIPs) > 0 && len(svc.Spec.ClusterIPs) == 0 && old.Spec.ClusterIP == svc.Spec.ClusterIP {
		svc.Spec.ClusterIPs = old.Spec.ClusterIPs
	}
	if old.Spec.ClusterIP != svc.Spec.ClusterIP && slices.Equal(old.Spec.ClusterIPs, svc.Spec.ClusterIPs) {
		if old.Spec.ClusterIP != "" && svc.Spec.ClusterIP == "" {
			svc.Spec.ClusterIPs = nil
		} else {
			svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
		}
	}
}

// patchAllocatedValues follows storage.go patchAllocatedValues: resubmitting a manifest
// without the allocated values keeps them.
func patchAllocatedValues(svc, old *core.Service) {
	if old.Spec.Type != core.ServiceTypeExternalName && svc.Spec.Type != core.ServiceTypeExternalName {
		if svc.Spec.ClusterIP == "" {
			svc.Spec.ClusterIP = old.Spec.ClusterIP
		}
		if len(svc.Spec.ClusterIPs) == 0 && len(old.Spec.ClusterIPs) > 0 {
			svc.Spec.ClusterIPs = old.Spec.ClusterIPs
		}
	}
	if needsNodePort(old) && needsNodePort(svc) {
		inNew := map[int32]bool{}
		for _, p := range svc.Spec.Ports {
			inNew[p.NodePort] = true
		}
		byName := map[string]int32{}
		for _, p := range old.Spec.Ports {
			byName[p.Name] = p.NodePort
		}
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			// A port kept by another port of the new object is not patched in twice.
			if v := byName[p.Name]; p.NodePort == 0 && !inNew[v] {
				p.NodePort = v
			}
		}
	}
	if apiservice.NeedsHealthCheck(old) && apiservice.NeedsHealthCheck(svc) && svc.Spec.HealthCheckNodePort == 0 {
		svc.Spec.HealthCheckNodePort = old.Spec.HealthCheckNodePort
	}
}

func needsNodePort(svc *core.Service) bool {
	switch svc.Spec.Type {
	case core.ServiceTypeNodePort:
		return true
	case core.ServiceTypeLoadBalancer:
		return svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

// initIPFamilyFields follows alloc.go initIPFamilyFields on a single-stack IPv4 cluster.
func initIPFamilyFields(svc, old *core.Service) error {
	if svc.Spec.Type == core.ServiceTypeExternalName {
		return nil
	}
	if old != nil && matchingPreferDualStack(svc, old) {
		return nil
	}
	headlessSelectorless := svc.Spec.ClusterIP == core.ClusterIPNone && len(svc.Spec.Selector) == 0
	if svc.Spec.IPFamilyPolicy == nil {
		policy := core.IPFamilyPolicySingleStack
		switch {
		case old != nil && old.Spec.IPFamilyPolicy != nil:
			policy = *old.Spec.IPFamilyPolicy
		case headlessSelectorless:
			policy = core.IPFamilyPolicyRequireDualStack
		}
		svc.Spec.IPFamilyPolicy = &policy
	}
	if el := validation.ValidateServiceClusterIPsRelatedFields(svc, old); len(el) != 0 {
		return apierrors.NewInvalid(core.Kind("Service"), svc.Name, el)
	}
	policy := *svc.Spec.IPFamilyPolicy
	var el field.ErrorList
	if old != nil && policy == core.IPFamilyPolicySingleStack {
		if slices.Equal(old.Spec.ClusterIPs, svc.Spec.ClusterIPs) && len(svc.Spec.ClusterIPs) > 1 {
			svc.Spec.ClusterIPs = svc.Spec.ClusterIPs[:1]
		}
		if slices.Equal(old.Spec.IPFamilies, svc.Spec.IPFamilies) && len(svc.Spec.IPFamilies) > 1 {
			svc.Spec.IPFamilies = svc.Spec.IPFamilies[:1]
		}
	}
	if policy == core.IPFamilyPolicySingleStack {
		if len(svc.Spec.ClusterIPs) == 2 {
			el = append(el, field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), svc.Spec.IPFamilyPolicy,
				"must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"))
		}
		if len(svc.Spec.IPFamilies) == 2 {
			el = append(el, field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), svc.Spec.IPFamilyPolicy,
				"must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"))
		}
	}
	for i, ip := range svc.Spec.ClusterIPs {
		if ip == core.ClusterIPNone {
			break
		}
		if i >= len(svc.Spec.IPFamilies) {
			if fam := familyOf(ip); fam != core.IPv4Protocol {
				el = append(el, field.Invalid(field.NewPath("spec", "clusterIPs").Index(i), svc.Spec.ClusterIPs,
					fmt.Sprintf("%s is not configured on this cluster", fam)))
			} else {
				svc.Spec.IPFamilies = append(svc.Spec.IPFamilies, fam)
			}
		}
	}
	if len(el) > 0 {
		return apierrors.NewInvalid(core.Kind("Service"), svc.Name, el)
	}
	if headlessSelectorless {
		// Headless and selectorless: allowed both families even on a single-stack cluster.
		if len(svc.Spec.IPFamilies) == 0 {
			svc.Spec.IPFamilies = []core.IPFamily{core.IPv4Protocol}
		}
		if len(svc.Spec.IPFamilies) < 2 && policy != core.IPFamilyPolicySingleStack {
			if svc.Spec.IPFamilies[0] == core.IPv4Protocol {
				svc.Spec.IPFamilies = append(svc.Spec.IPFamilies, core.IPv6Protocol)
			} else {
				svc.Spec.IPFamilies = append(svc.Spec.IPFamilies, core.IPv4Protocol)
			}
		}
		return nil
	}
	if policy == core.IPFamilyPolicyRequireDualStack {
		el = append(el, field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), svc.Spec.IPFamilyPolicy,
			"this cluster is not configured for dual-stack services"))
	}
	for i, fam := range svc.Spec.IPFamilies {
		if fam != core.IPv4Protocol {
			el = append(el, field.Invalid(field.NewPath("spec", "ipFamilies").Index(i), fam, "not configured on this cluster"))
		}
	}
	if len(el) > 0 {
		return apierrors.NewInvalid(core.Kind("Service"), svc.Name, el)
	}
	if len(svc.Spec.IPFamilies) == 0 {
		svc.Spec.IPFamilies = []core.IPFamily{core.IPv4Protocol}
	}
	return nil
}

// matchingPreferDualStack follows alloc.go isMatchingPreferDualStackClusterIPFields: an update
// of a PreferDualStack Service that changes neither type, IPs nor families is left alone.
func matchingPreferDualStack(svc, old *core.Service) bool {
	if svc.Spec.IPFamilyPolicy == nil || old.Spec.Type != svc.Spec.Type {
		return false
	}
	switch svc.Spec.Type {
	case core.ServiceTypeClusterIP, core.ServiceTypeNodePort, core.ServiceTypeLoadBalancer:
	default:
		return false
	}
	prefer := core.IPFamilyPolicyPreferDualStack
	if *svc.Spec.IPFamilyPolicy != prefer || (old.Spec.IPFamilyPolicy != nil && *old.Spec.IPFamilyPolicy != prefer) {
		return false
	}
	return slices.Equal(old.Spec.ClusterIPs, svc.Spec.ClusterIPs) && slices.Equal(old.Spec.IPFamilies, svc.Spec.IPFamilies)
}

func familyOf(ip string) core.IPFamily {
	if addr, err := netip.ParseAddr(ip); err == nil && addr.Is6() && !addr.Is4In6() {
		return core.IPv6Protocol
	}
	return core.IPv4Protocol
}

// allocClusterIPs follows alloc.go allocClusterIPs: none for ExternalName or headless, the
// requested one if it is free and in range, else the next free one.
func (u *serviceAllocations) allocClusterIPs(svc *core.Service) error {
	if svc.Spec.Type == core.ServiceTypeExternalName {
		return nil
	}
	if len(svc.Spec.ClusterIPs) > 0 && svc.Spec.ClusterIPs[0] == core.ClusterIPNone {
		return nil
	}
	for i := range svc.Spec.IPFamilies {
		if i >= len(svc.Spec.ClusterIPs) {
			svc.Spec.ClusterIPs = append(svc.Spec.ClusterIPs, "")
		}
		ip := svc.Spec.ClusterIPs[i]
		if ip == "" {
			addr, ok := u.nextIP()
			if !ok {
				return apierrors.NewInternalError(fmt.Errorf("failed to allocate a serviceIP for Service %q: range is full", svc.Name))
			}
			ip = addr.String()
		} else if err := u.takeIP(ip); err != nil {
			el := field.ErrorList{field.Invalid(field.NewPath("spec", "clusterIPs"), svc.Spec.ClusterIPs, fmt.Sprintf("failed to allocate IP %v: %v", ip, err))}
			return apierrors.NewInvalid(core.Kind("Service"), svc.Name, el)
		}
		svc.Spec.ClusterIPs[i] = ip
		if i == 0 {
			svc.Spec.ClusterIP = ip
		}
	}
	return nil
}

func (u *serviceAllocations) takeIP(ip string) error {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return err
	}
	if !serviceCIDR.Contains(addr) || addr.Less(serviceIPFirst) || serviceIPLast.Less(addr) {
		return fmt.Errorf("the provided IP (%v) is not in the valid range. The range of valid IPs is %s", ip, serviceCIDR)
	}
	if u.ips[addr] {
		return fmt.Errorf("provided IP is already allocated")
	}
	u.ips[addr] = true
	return nil
}

// nextIP takes the lowest free address of the dynamic band, then of the static one.
func (u *serviceAllocations) nextIP() (netip.Addr, bool) {
	offset := serviceIPFirst
	for range serviceIPOffset {
		offset = offset.Next()
	}
	for _, band := range [][2]netip.Addr{{offset, serviceIPLast}, {serviceIPFirst, offset.Prev()}} {
		for addr := band[0]; !band[1].Less(addr); addr = addr.Next() {
			if !u.ips[addr] {
				u.ips[addr] = true
				return addr, true
			}
		}
	}
	return netip.Addr{}, false
}

// initNodePorts follows alloc.go initNodePorts (create): ports of the same number share a
// node port, requested ones are reserved, missing ones allocated when the type allocates them.
func (u *serviceAllocations) initNodePorts(svc *core.Service) error {
	allocate := needsNodePort(svc)
	byPort := map[int32]int32{}
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.NodePort == 0 && !allocate {
			continue
		}
		shared := byPort[p.Port]
		switch {
		case shared == 0:
			// findRequestedNodePort: the first port of this number that names a node port.
			for _, q := range svc.Spec.Ports {
				if q.Port == p.Port && q.NodePort != 0 {
					shared = q.NodePort
					break
				}
			}
			if shared != 0 {
				if err := u.takePort(shared); err != nil {
					return invalidNodePort(svc, i, shared, err)
				}
			} else {
				np, ok := u.nextPort()
				if !ok {
					return apierrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: range is full"))
				}
				shared = np
			}
			p.NodePort = shared
			byPort[p.Port] = shared
		case p.NodePort == 0:
			p.NodePort = shared
		case p.NodePort != shared:
			if err := u.takePort(p.NodePort); err != nil {
				return invalidNodePort(svc, i, p.NodePort, err)
			}
		}
	}
	return nil
}

// updateNodePorts follows alloc.go updateNodePorts: a node port the Service held stays its
// own, a new one is reserved, a missing one allocated.
func (u *serviceAllocations) updateNodePorts(svc, old *core.Service) error {
	// What the Service held stays allocated until the update is stored (ReleaseDeferred).
	held := map[int32]bool{}
	for _, p := range old.Spec.Ports {
		if p.NodePort != 0 {
			held[p.NodePort] = true
			u.ports[p.NodePort] = true
		}
	}
	allocate := needsNodePort(svc)
	type protoPort struct {
		proto core.Protocol
		port  int32
	}
	seen := map[protoPort]bool{}
	taken := map[int32]bool{}
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.NodePort == 0 && !allocate {
			continue
		}
		if p.NodePort != 0 {
			if !held[p.NodePort] && !taken[p.NodePort] {
				if err := u.takePort(p.NodePort); err != nil {
					return invalidNodePort(svc, i, p.NodePort, err)
				}
				taken[p.NodePort] = true
			}
		} else {
			np, ok := u.nextPort()
			if !ok {
				return apierrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: range is full"))
			}
			p.NodePort = np
		}
		k := protoPort{p.Protocol, p.NodePort}
		if seen[k] {
			return apierrors.NewInternalError(fmt.Errorf("duplicate nodePort: {%s %d}", p.Protocol, p.NodePort))
		}
		seen[k] = true
	}
	return nil
}

func invalidNodePort(svc *core.Service, i int, np int32, err error) error {
	el := field.ErrorList{field.Invalid(field.NewPath("spec", "ports").Index(i).Child("nodePort"), np, err.Error())}
	return apierrors.NewInvalid(core.Kind("Service"), svc.Name, el)
}

// allocHealthCheckNodePort follows alloc.go allocHealthCheckNodePort.
func (u *serviceAllocations) allocHealthCheckNodePort(svc *core.Service) error {
	if np := svc.Spec.HealthCheckNodePort; np != 0 {
		if err := u.takePort(np); err != nil {
			return apierrors.NewInternalError(fmt.Errorf("failed to allocate requested HealthCheck NodePort %v: %v", np, err))
		}
		return nil
	}
	np, ok := u.nextPort()
	if !ok {
		return apierrors.NewInternalError(fmt.Errorf("failed to allocate a HealthCheck NodePort: range is full"))
	}
	svc.Spec.HealthCheckNodePort = np
	return nil
}

func (u *serviceAllocations) takePort(np int32) error {
	if np < nodePortBase || np > nodePortLast {
		return fmt.Errorf("provided port is not in the valid range. The range of valid ports is %s", nodePortRange)
	}
	if u.ports[np] {
		return fmt.Errorf("provided port is already allocated")
	}
	u.ports[np] = true
	return nil
}

// nextPort takes the lowest free port of the dynamic band, then of the static one.
func (u *serviceAllocations) nextPort() (int32, bool) {
	for _, band := range [][2]int32{{nodePortBase + nodePortOffset, nodePortLast}, {nodePortBase, nodePortBase + nodePortOffset - 1}} {
		for np := band[0]; np <= band[1]; np++ {
			if !u.ports[np] {
				u.ports[np] = true
				return np, true
			}
		}
	}
	return 0, false
}
