package manager

import (
	"time"

	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/controlplane"
)

// Client is one controller's own API client, as kube-controller-manager gives each controller
// one (cmd/kube-controller-manager/app: controllerContext.NewClient("replicaset-controller"),
// a clientset from the ClientBuilder's rest.Config) with a token bucket of its own:
// --kube-api-qps and --kube-api-burst (controlplane.Bucket). A controller that paces its
// writes reserves each through its Client and sends it at the instant the bucket allows, as
// an event on the virtual clock; reads come from informers in the real controller manager and
// take no token.
//
// With --kube-api-qps negative the client has no limiter (Paced is false) and Send writes at
// once, inside the caller: the controllers then behave exactly as they did before pacing.
type Client struct {
	name   string
	clock  *clock.Virtual
	bucket *controlplane.Bucket
}

// Client returns the client of the given name (the real controller's client name), made on
// first use with the control plane's --kube-api-qps and --kube-api-burst.
func (m *Manager) Client(name string) *Client {
	if c := m.clients[name]; c != nil {
		return c
	}
	fl := m.s.ControlPlane()
	c := &Client{name: name, clock: m.s.Clock(), bucket: controlplane.NewBucket(fl.ClientQPS(), fl.ClientBurst())}
	m.clients[name] = c
	return c
}

// Name is the client's name, e.g. "replicaset-controller".
func (c *Client) Name() string { return c.name }

// Paced reports whether the client has a token bucket.
func (c *Client) Paced() bool { return c.bucket != nil }

// Reserve takes a token and returns the instant the write may be sent (now if a token is
// free or the client is not paced).
func (c *Client) Reserve() time.Time { return c.bucket.Reserve(c.clock.Now()) }

// Send reserves a token and runs write at that instant as a clock event, in the order of the
// reservations; an unpaced client runs write at once, before Send returns.
func (c *Client) Send(write func()) {
	if !c.Paced() {
		write()
		return
	}
	c.clock.At(c.Reserve(), write)
}

// SendAll sends n writes at once, as n goroutines each calling the client would (the real
// controller's slowStartBatch batch, or its parallel deletes): write(i) runs at the i-th
// reserved instant, and then runs once after the last of them.
func (c *Client) SendAll(n int, write func(i int), then func()) {
	if n == 0 {
		then()
		return
	}
	left := n
	for i := range n {
		c.Send(func() {
			write(i)
			if left--; left == 0 {
				then()
			}
		})
	}
}

// SlowStartInitialBatchSize is controller.SlowStartInitialBatchSize.
const SlowStartInitialBatchSize = 1

// SlowStartBatch is the real controllers' slow start (pkg/controller/replicaset slowStartBatch,
// and the same loop in the Job controller's manageJob): it calls fn(0), …, fn(count-1) in
// batches of 1, 2, 4, …, and stops after the first batch in which a call failed. done gets
// how many calls failed, how many were skipped after that batch, and the batch's first error.
//
// The real controllers run a batch's calls on goroutines of their own, each waiting for its
// client's token, and start the next batch when all have returned. Here each call is sent
// through the client (SendAll): at its reserved instant, in the order reserved, so that the
// generated names, UIDs and the order of the writes do not depend on the Go scheduler; the
// next batch reserves its tokens when the previous batch's last call has run. An unpaced
// client makes every call at once, one after another, before SlowStartBatch returns.
func (c *Client) SlowStartBatch(count int, fn func(i int) error, done func(failed, skipped int, err error)) {
	next, failed := 0, 0
	var batch func(size int)
	batch = func(size int) {
		if size == 0 {
			done(failed, 0, nil)
			return
		}
		var first error
		start := next
		next += size
		c.SendAll(size, func(i int) {
			if err := fn(start + i); err != nil {
				failed++
				if first == nil {
					first = err
				}
			}
		}, func() {
			if first != nil {
				done(failed, count-next, first)
				return
			}
			batch(min(2*size, count-next))
		})
	}
	batch(min(count, SlowStartInitialBatchSize))
}
