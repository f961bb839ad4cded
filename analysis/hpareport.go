package analysis

// HPAReport is the report's horizontalPodAutoscalers section (issue 22): what the
// HorizontalPodAutoscaler controller did with each HPA. Left out of the JSON when the run had
// no HPA (assertions then see an empty list). Built from the HPARecords by hpaReport.
type HPAReport struct {
	// HPAs are the HPAs that existed during the run, in the order they were created.
	HPAs []HPAReportItem `json:"hpas"`
	// NotModelled says, one line each, what of the HPA controller kwoksim leaves out and what
	// the real one does: the HPAs' own lines (a Pods, Object or External metric, ...), then
	// the lines that hold for every HPA (no metrics-server lag or averaging, reconciles
	// exactly every sync period, no custom or external metrics API).
	NotModelled []string `json:"notModelled,omitempty"`
}

// HPAReportItem is one HPA: its spec, its replicas over the run and what the controller said.
// Replicas are the target's scale.spec.replicas: a reconcile reads them (current) and, when it
// rescales, sets them (desired). Times are virtual seconds since the start.
type HPAReportItem struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Target is spec.scaleTargetRef as Kind/name ("Deployment/web").
	Target      string `json:"target"`
	MinReplicas int32  `json:"minReplicas"`
	MaxReplicas int32  `json:"maxReplicas"`
	// Metrics describe spec.metrics, one line each ("cpu utilization 50% of requests").
	Metrics []string `json:"metrics"`
	// Path is "behavior" when spec.behavior is set (normalizeDesiredReplicasWithBehaviors),
	// "legacy" otherwise (normalizeDesiredReplicas).
	Path string `json:"path"`
	// CreatedAt is when the HPA was created; DeletedAt when it was deleted, absent if never.
	CreatedAt float64  `json:"createdAt"`
	DeletedAt *float64 `json:"deletedAt,omitempty"`
	// InitialReplicas is what the first reconcile read; FinalReplicas the target's replicas
	// after the last one (its desired count if it rescaled); PeakReplicas and LowestReplicas
	// the most and fewest the target had from the first reconcile on (0 each without any).
	InitialReplicas int32 `json:"initialReplicas"`
	FinalReplicas   int32 `json:"finalReplicas"`
	PeakReplicas    int32 `json:"peakReplicas"`
	LowestReplicas  int32 `json:"lowestReplicas"`
	// ScaleUps and ScaleDowns count the rescales (SuccessfulRescale events) that raised and
	// lowered the target's replicas.
	ScaleUps   int `json:"scaleUps"`
	ScaleDowns int `json:"scaleDowns"`
	// Reconciles counts every reconcile; FailedReconciles those that computed no replica
	// count (missing metrics, a failed scale read, an invalid selector, ...).
	Reconciles       int `json:"reconciles"`
	FailedReconciles int `json:"failedReconciles"`
	// StartupFailures are those of FailedReconciles that came before the first reconcile that
	// did not fail (the target's pods did not exist yet, or had no metrics yet): the table
	// warns only of the others, or when no reconcile succeeded.
	StartupFailures int `json:"startupFailures"`
	// LastFailure is the last Warning event as "reason: message"; "" when there was none.
	LastFailure string `json:"lastFailure"`
	// SecondsAtMax is how long the target had maxReplicas, from the first reconcile to the
	// HPA's deletion or the end of the run; SecondsLimited how long the ScalingLimited
	// condition was True (the count held back by a rate limit or by min/max).
	SecondsAtMax   float64 `json:"secondsAtMax"`
	SecondsLimited float64 `json:"secondsLimited"`
	// ReplicasOverTime is the HPA's state after every reconcile whose outcome changed, a step
	// function.
	ReplicasOverTime []HPAReplicasPoint `json:"replicasOverTime"`
	// Rescales are the target's rescales, in order.
	Rescales []HPARescale `json:"rescales"`
	// Events are the events the controller recorded on the HPA, in order, a run of identical
	// consecutive ones counted once.
	Events []HPAEventReport `json:"events"`
	// FinalConditions are the status conditions at the end, one per type in the order they
	// first appeared, each with the time of its last change.
	FinalConditions []HPAConditionReport `json:"finalConditions"`
}

// HPAReplicasPoint is the HPA's state from At on.
type HPAReplicasPoint struct {
	At float64 `json:"at"`
	// Current is the target's replicas the reconcile read; Desired status.desiredReplicas
	// after it (kept from before when the reconcile failed, so 0 before any success);
	// Proposal the metrics' proposal before stabilization and rate limits, -1 when none was
	// computed.
	Current  int32 `json:"current"`
	Desired  int32 `json:"desired"`
	Proposal int32 `json:"proposal"`
}

// HPARescale is one rescale of the target, from its SuccessfulRescale event ("New size: %d;
// reason: %s"): From is the replicas the reconcile read, To the new size.
type HPARescale struct {
	At     float64 `json:"at"`
	From   int32   `json:"from"`
	To     int32   `json:"to"`
	Reason string  `json:"reason"`
}

// HPAEventReport is HPAEventRecord in seconds.
type HPAEventReport struct {
	At      float64 `json:"at"`
	LastAt  float64 `json:"lastAt"`
	Count   int     `json:"count"`
	Type    string  `json:"type"`
	Reason  string  `json:"reason"`
	Message string  `json:"message"`
}

// HPAConditionReport is a condition's last state: Since is when it took it.
type HPAConditionReport struct {
	Type    string  `json:"type"`
	Status  string  `json:"status"`
	Reason  string  `json:"reason"`
	Message string  `json:"message"`
	Since   float64 `json:"since"`
}
