package analysis

// AutoscalingReport is the report's autoscaling section (issue 21): what the node autoscaler
// did and what it cost. Left out of the JSON when the run had no autoscaler (assertions then
// see zero counts and empty lists). Built from AutoscalerRecord by autoscalingReport.
type AutoscalingReport struct {
	// Autoscaler is "cluster-autoscaler" or "karpenter".
	Autoscaler string `json:"autoscaler"`
	// NodeHours and Cost are over every pool: each node is billed from its launch (the
	// scale-up decision) to its deletion or the end of the run.
	NodeHours float64 `json:"nodeHours"`
	Cost      float64 `json:"cost"`
	// ScaleUps and ScaleDowns count the decisions (events), NodesAdded and NodesRemoved the
	// nodes they launched and removed.
	ScaleUps     int `json:"scaleUps"`
	ScaleDowns   int `json:"scaleDowns"`
	NodesAdded   int `json:"nodesAdded"`
	NodesRemoved int `json:"nodesRemoved"`
	// FailedLaunches counts the launches that went away without their Node ever registering
	// (given up at the provisioning timeout, or the Node could not be created): billed up to
	// then, not counted in NodesRemoved.
	FailedLaunches int `json:"failedLaunches"`
	// Nodes is how many pool nodes exist at the end (launched and not deleted); PeakNodes the
	// most pool nodes launched and not yet deleted at once.
	Nodes     int `json:"nodes"`
	PeakNodes int `json:"peakNodes"`
	// CapacityWait is created → bound, in seconds, over the pods that were found
	// unschedulable at least once and were bound later: how long pods waited for capacity.
	CapacityWait Distribution `json:"capacityWait"`
	// Pools are the pools, in input order, each with its figures.
	Pools []PoolReport `json:"pools"`
	// Events are the scale events, in order.
	Events []ScaleEventReport `json:"events"`
	// NoScaleUp are the pods no pool could take, by namespace and name, with the reason.
	NoScaleUp []NoScaleUpReport `json:"noScaleUp"`
	// NoScaleUpUnresolved counts the pods of NoScaleUp never bound by the end of the run (no
	// resolved time): what `autoscaling.noScaleUpUnresolved == 0` asserts.
	NoScaleUpUnresolved int `json:"noScaleUpUnresolved"`
	// Unremovable are the nodes that could not be removed at the end, by name.
	Unremovable []UnremovableReport `json:"unremovable"`
	// NotModelled lists the upstream behaviours kwoksim leaves out.
	NotModelled []string `json:"notModelled"`
}

// PoolReport is one pool's figures.
type PoolReport struct {
	Name      string  `json:"name"`
	Min       int32   `json:"min"`
	Max       int32   `json:"max"`
	NodeHours float64 `json:"nodeHours"`
	Cost      float64 `json:"cost"`
	// Nodes is how many of its nodes exist at the end; PeakNodes the most at once.
	Nodes     int `json:"nodes"`
	PeakNodes int `json:"peakNodes"`
	// Shapes are its shapes with their own figures, in input order.
	Shapes []ShapeReport `json:"shapes"`
	// NodesOverTime is the pool's node count after every change: [seconds, count] pairs.
	NodesOverTime [][2]float64 `json:"nodesOverTime"`
	// CostOverTime is the pool's cost so far, [seconds, cost] pairs: at t=0, after every
	// instant that changed what the pool pays per hour, and at the end of the run (its last
	// cost is Cost). The cost grows linearly between two points.
	CostOverTime [][2]float64 `json:"costOverTime"`
}

// ShapeReport is one shape's figures within its pool.
type ShapeReport struct {
	Name         string  `json:"name"`
	PricePerHour float64 `json:"pricePerHour"`
	// NodesAdded counts its nodes launched during the run (not those present at t=0); Nodes
	// its nodes at the end.
	NodesAdded int     `json:"nodesAdded"`
	Nodes      int     `json:"nodes"`
	NodeHours  float64 `json:"nodeHours"`
	Cost       float64 `json:"cost"`
}

// ScaleEventReport is ScaleEventRecord in seconds.
type ScaleEventReport struct {
	At      float64  `json:"at"`
	Type    string   `json:"type"`
	Pool    string   `json:"pool,omitempty"`
	Shape   string   `json:"shape,omitempty"`
	Nodes   []string `json:"nodes,omitempty"`
	Count   int      `json:"count"`
	Pods    int      `json:"pods"`
	Reason  string   `json:"reason"`
	Message string   `json:"message"`
}

// NoScaleUpReport is NoScaleUpRecord in seconds.
type NoScaleUpReport struct {
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	At        float64  `json:"at"`
	Reason    string   `json:"reason"`
	Resolved  *float64 `json:"resolved,omitempty"`
}

// UnremovableReport is UnremovableRecord in seconds.
type UnremovableReport struct {
	Node   string  `json:"node"`
	Pool   string  `json:"pool"`
	At     float64 `json:"at"`
	Reason string  `json:"reason"`
	Detail string  `json:"detail,omitempty"`
}
