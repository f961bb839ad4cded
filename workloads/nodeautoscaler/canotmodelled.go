package nodeautoscaler

// caNotModelled is what the cluster-autoscaler behaviour leaves out, one line each with what
// the real one (1.36.1) does; it goes to the record's NotModelled.
var caNotModelled = []string{
	"cluster-autoscaler loop: iterations run every --scan-interval from t=0, at once after a productive iteration, and at once when a pod becomes Unschedulable (--frequent-loops-enabled, modelled); the real pod observer also fires on any update of a pod made Unschedulable less than 10 s before, which kwoksim does not",
	"cluster-autoscaler node groups: each (NodePool, shape) is a node group <pool>/<shape>; the pool's min and max bound all its shapes together, where a real node group has its own min and max",
	"cluster-autoscaler --balance-similar-node-groups: not modelled; the real one spreads a scale-up over similar node groups",
	"cluster-autoscaler GPU: not modelled; the real one waits 30 s for GPU pods (unschedulablePodTimeBuffer), measures GPU nodes by GPU utilization and has its own GPU thresholds",
	"cluster-autoscaler DRA: a template node has the devices of its kwoksim.io/devices annotation, a pod placed in a simulation has its claims allocated by the DynamicResources plugin (released when it is moved), and a node with devices is as utilized as its most allocated pool of devices (partitionable devices by their shared counters, as upstream); DeviceTaintRules do not apply to template nodes' slices",
	"cluster-autoscaler CSI node limits and ProvisioningRequests: not modelled; the real one simulates provisioning-request classes",
	"cluster-autoscaler cloud errors: only the provisioning timeout (--max-node-provision-time) is modelled; a real cloud can refuse a scale-up (FailedToScaleUpGroup, quota, stock-out), which also backs the group off",
	"cluster-autoscaler --cores-total, --memory-total and resource quotas: not modelled; the real one caps scale-ups and scale-downs by them",
	"cluster-autoscaler soft taint DeletionCandidateOfClusterAutoscaler:PreferNoSchedule on unneeded nodes: not put; the real one adds it (10 per loop), so the scheduler's TaintToleration score prefers other nodes for new pods",
	"cluster-autoscaler price expander: kwoksim picks the lowest hourly cost (price × node count); the real one weighs it against the pods' price, a stabilization pod and the node's unfitness to a preferred shape",
	"cluster-autoscaler per-pod annotation cluster-autoscaler.kubernetes.io/pod-scale-up-delay: not read; the real one delays that pod's scale-up",
	"cluster-autoscaler scale-down simulation: pods to move are placed first fit on the other nodes in name order and stay placed for later candidates of the pass; the real one uses a hinting simulator, forks the snapshot per node, and limits candidates (--scale-down-non-empty-candidates-count 30, pool ratio 0.1 / min 50) and time (--scale-down-simulation-timeout 30 s)",
	"cluster-autoscaler kube-system pods: a kube-system pod without a PDB blocks scale-down (UnmovableKubeSystemPod) for ever here; the real one evicts it after --blocking-system-pod-distruption-timeout (1 h)",
	"cluster-autoscaler DaemonSet pods: not evicted when their node is removed (they go with the node); the real one evicts them best-effort (--daemonset-eviction-for-occupied-nodes, --daemonset-eviction-for-empty-nodes)",
	"cluster-autoscaler unready nodes: --max-total-unready-percentage / --ok-total-unready-count (halting when too many nodes are unready), --max-node-startup-time and LongUnregistered node deletion are not modelled",
	"cluster-autoscaler wall-clock limits (--max-nodegroup-binpacking-duration, --max-binpacking-time, --scale-down-simulation-timeout) do not apply on virtual time",
	"cluster-autoscaler events: recorded in the autoscaling record only; the real one also posts them as Kubernetes Events on pods (TriggeredScaleUp, NotTriggerScaleUp) and nodes",
}

// caPriorityNotModelled is said when --expander has priority.
const caPriorityNotModelled = "cluster-autoscaler --expander priority: kwoksim stores no ConfigMaps, so kube-system/cluster-autoscaler-priority-expander is never found; the real expander then keeps every option (priority.go, on a failed reload), and so does kwoksim: the next expander of the chain, or the seeded random draw, chooses"
