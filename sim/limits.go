package sim

import (
	"fmt"
	"math"
	"runtime/metrics"
	"strconv"
	"time"
)

// Limits keep a run that its inputs make grow without bound (a trace that never deletes, a
// controller scaled to millions) from exhausting memory: past a limit the run fails with a
// message naming the limit and the flag that raises it, instead of the process being killed.

// DefaultMaxObjects bounds the objects the simulated apiserver stores at once. Generous: a
// stored pod with its informer and scheduler copies costs a few KiB, so a million objects is
// several GiB, more than the largest public traces need.
const DefaultMaxObjects = 1_000_000

// The command-line flags that raise the limits, named in the errors.
const (
	MaxObjectsFlag          = "--max-objects"
	MaxEventsPerInstantFlag = "--max-events-per-instant"
)

// validateLimits defaults and checks the limits of c.
func (c *Config) validateLimits() error {
	if c.MaxObjects == 0 {
		c.MaxObjects = DefaultMaxObjects
	}
	if c.MaxObjects < 0 {
		return fmt.Errorf("the object limit must be positive, got %d", c.MaxObjects)
	}
	if c.MaxMemory < 0 {
		return fmt.Errorf("the memory limit must not be negative, got %d", c.MaxMemory)
	}
	if c.MaxEventsPerInstant < 0 {
		return fmt.Errorf("the limit of events per virtual instant must be positive, got %d", c.MaxEventsPerInstant)
	}
	return nil
}

// objectLimit counts the objects stored and refuses the create that would pass max.
type objectLimit struct {
	max    int // 0: no limit (an API built without a Config, in tests)
	stored int
	// abort stops the run: a create refused here would otherwise surface only as a
	// controller's or the trace's failed write, and the run would go on without the object.
	abort func(error)
	// memory is checked every memoryCheckEvery creates.
	memory memoryLimit
}

// admit is called before an object is created.
func (l *objectLimit) admit(k *Kind, namespace, name string) error {
	if err := l.memory.created(); err != nil {
		if l.abort != nil {
			l.abort(err)
		}
		return err
	}
	if l.max <= 0 || l.stored < l.max {
		return nil
	}
	if namespace != "" {
		name = namespace + "/" + name
	}
	err := &Failure{Msg: fmt.Sprintf("object limit reached: creating %s %s would store more than %d objects "+
		"(the limit of the simulated apiserver; raise it with %s)", k.Name(), name, l.max, MaxObjectsFlag)}
	if l.abort != nil {
		l.abort(err)
	}
	return err
}

// MaxMemoryFlag is the flag that sets the memory limit, named in its error.
const MaxMemoryFlag = "--max-memory"

// The memory limit is checked every memoryCheckEvery object creates and clock events: often
// enough that a run growing by a few hundred KiB per object cannot overshoot it by much,
// rarely enough to cost nothing (a read of runtime/metrics takes about a microsecond).
const memoryCheckEvery = 1024

// memoryLimit fails the run when the memory the Go runtime holds passes max. Unlike the
// other limits it depends on the machine and the Go runtime, not only on the inputs, and its
// message says so. It reads memory and never feeds the simulation: a run that stays under it
// gives the same report as one without it.
type memoryLimit struct {
	max  int64  // 0: no limit
	note string // how max was chosen, for the message
	// elapsed and stored give the message its virtual time and object count.
	elapsed func() time.Duration
	stored  func() int
	// creates and events count since the last check.
	creates    int
	lastEvents int64
	checked    bool
	samples    []metrics.Sample
}

// memoryMetrics are what the runtime's memory limit (debug.SetMemoryLimit) counts: all the
// memory the Go runtime has mapped, less the heap it returned to the operating system.
var memoryMetrics = []string{"/memory/classes/total:bytes", "/memory/classes/heap/released:bytes"}

// memoryInUse is the memory the Go runtime holds, as its memory limit counts it.
func memoryInUse(samples []metrics.Sample) int64 {
	metrics.Read(samples)
	var total, released uint64
	if s := samples[0].Value; s.Kind() == metrics.KindUint64 {
		total = s.Uint64()
	}
	if s := samples[1].Value; s.Kind() == metrics.KindUint64 {
		released = s.Uint64()
	}
	if released > total {
		return 0
	}
	return int64(total - released)
}

// MemoryInUse is the memory the Go runtime holds, as the memory limit counts it.
func MemoryInUse() int64 { return memoryInUse(memorySamples()) }

// memorySamples are the samples memoryInUse reads, named.
func memorySamples() []metrics.Sample {
	samples := make([]metrics.Sample, len(memoryMetrics))
	for i, name := range memoryMetrics {
		samples[i].Name = name
	}
	return samples
}

// check fails when the memory in use is past the limit.
func (m *memoryLimit) check() error {
	if m.max <= 0 {
		return nil
	}
	if m.samples == nil {
		m.samples = memorySamples()
	}
	used := memoryInUse(m.samples)
	if used <= m.max {
		return nil
	}
	var at string
	if m.elapsed != nil && m.stored != nil {
		at = fmt.Sprintf(" at virtual time t=%s, with %d objects stored", m.elapsed(), m.stored())
	}
	how := MaxMemoryFlag
	if m.note != "" {
		how = m.note
	}
	return &Failure{Msg: fmt.Sprintf("memory limit reached: the Go runtime holds %s, more than the limit of %s (%s)%s. "+
		"This limit protects the machine: where a run stops on it depends on the machine and the Go runtime, "+
		"not only on the inputs; raise it with %s, or turn it off with %s 0",
		FormatBytes(used), FormatBytes(m.max), how, at, MaxMemoryFlag, MaxMemoryFlag)}
}

// created is called after each object create: every memoryCheckEvery, it checks.
func (m *memoryLimit) created() error {
	if m.max <= 0 {
		return nil
	}
	m.creates++
	if m.creates < memoryCheckEvery {
		return nil
	}
	m.creates = 0
	return m.check()
}

// stepped is called between clock events with the count processed: it checks at the first
// call and every memoryCheckEvery events after.
func (m *memoryLimit) stepped(processed int64) error {
	if m.max <= 0 || (m.checked && processed-m.lastEvents < memoryCheckEvery) {
		return nil
	}
	m.checked, m.lastEvents = true, processed
	return m.check()
}

// FormatBytes writes a size in bytes with a binary unit, to two decimals at most: 512 B,
// 1.5 KiB, 6 GiB, 23.54 GiB.
func FormatBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1024, "KiB"
	for _, u := range []string{"MiB", "GiB", "TiB", "PiB", "EiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) + " " + unit
}
