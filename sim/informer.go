package sim

import (
	"context"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
)

// syncInformer is a cache.SharedIndexInformer whose store is written by the API layer and whose
// handlers run synchronously, in registration order, inside the write that caused them. A real
// informer delivers asynchronously from a watch; delivering inside the write is what lets the
// event loop know that every consumer has seen a change before virtual time moves.
type syncInformer struct {
	indexer cache.Indexer
	// visible reports whether an object is delivered at all, mirroring a field selector on the
	// watch: an object that stops matching is delivered as a deletion.
	visible func(runtime.Object) bool

	mu        sync.Mutex
	handlers  []*registration
	transform cache.TransformFunc
}

var _ cache.SharedIndexInformer = (*syncInformer)(nil)

type registration struct{ handler cache.ResourceEventHandler }

func (*registration) HasSynced() bool                     { return true }
func (*registration) HasSyncedChecker() cache.DoneChecker { return doneChecker{} }

// doneChecker is always done: the store is complete before anyone reads it.
type doneChecker struct{}

var closedCh = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (doneChecker) Name() string          { return "kwoksim" }
func (doneChecker) Done() <-chan struct{} { return closedCh }

func newSyncInformer(visible func(runtime.Object) bool) *syncInformer {
	if visible == nil {
		visible = func(runtime.Object) bool { return true }
	}
	return &syncInformer{
		indexer: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}),
		visible: visible,
	}
}

// deliver applies one write (old or cur may be nil for a create or a delete) to the store and
// calls every handler. Objects handed over must not be modified afterwards.
func (i *syncInformer) deliver(old, cur runtime.Object) {
	oldIn := old != nil && i.visible(old)
	curIn := cur != nil && i.visible(cur)
	if !oldIn && !curIn {
		return
	}
	i.mu.Lock()
	handlers := i.handlers
	transform := i.transform
	i.mu.Unlock()
	var stored interface{}
	if oldIn {
		key, _ := cache.MetaNamespaceKeyFunc(old)
		if o, ok, _ := i.indexer.GetByKey(key); ok {
			stored = o
		} else {
			stored = old
		}
	}
	var next interface{} = cur
	if curIn && transform != nil {
		var err error
		if next, err = transform(cur); err != nil {
			next = cur
		}
	}
	switch {
	case !oldIn:
		_ = i.indexer.Add(next)
		for _, h := range handlers {
			h.handler.OnAdd(next, false)
		}
	case curIn:
		_ = i.indexer.Update(next)
		for _, h := range handlers {
			h.handler.OnUpdate(stored, next)
		}
	default:
		_ = i.indexer.Delete(stored)
		for _, h := range handlers {
			h.handler.OnDelete(stored)
		}
	}
}

func (i *syncInformer) AddEventHandler(handler cache.ResourceEventHandler) (cache.ResourceEventHandlerRegistration, error) {
	return i.AddEventHandlerWithOptions(handler, cache.HandlerOptions{})
}

func (i *syncInformer) AddEventHandlerWithResyncPeriod(handler cache.ResourceEventHandler, _ time.Duration) (cache.ResourceEventHandlerRegistration, error) {
	return i.AddEventHandlerWithOptions(handler, cache.HandlerOptions{})
}

// AddEventHandlerWithOptions replays the current store as initial adds, in key order, as a
// real informer does for a late handler (in its own, unspecified, order).
func (i *syncInformer) AddEventHandlerWithOptions(handler cache.ResourceEventHandler, _ cache.HandlerOptions) (cache.ResourceEventHandlerRegistration, error) {
	r := &registration{handler: handler}
	i.mu.Lock()
	i.handlers = append(append([]*registration(nil), i.handlers...), r)
	i.mu.Unlock()
	keys := i.indexer.ListKeys()
	sort.Strings(keys)
	for _, k := range keys {
		if obj, ok, _ := i.indexer.GetByKey(k); ok {
			handler.OnAdd(obj, true)
		}
	}
	return r, nil
}

func (i *syncInformer) RemoveEventHandler(handle cache.ResourceEventHandlerRegistration) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	kept := make([]*registration, 0, len(i.handlers))
	for _, h := range i.handlers {
		if h != handle {
			kept = append(kept, h)
		}
	}
	i.handlers = kept
	return nil
}

func (i *syncInformer) GetStore() cache.Store                              { return i.indexer }
func (i *syncInformer) GetIndexer() cache.Indexer                          { return i.indexer }
func (i *syncInformer) GetController() cache.Controller                    { return nil }
func (i *syncInformer) Run(stopCh <-chan struct{})                         { <-stopCh }
func (i *syncInformer) RunWithContext(ctx context.Context)                 { <-ctx.Done() }
func (i *syncInformer) HasSynced() bool                                    { return true }
func (i *syncInformer) HasSyncedChecker() cache.DoneChecker                { return doneChecker{} }
func (i *syncInformer) LastSyncResourceVersion() string                    { return "" }
func (i *syncInformer) IsStopped() bool                                    { return false }
func (i *syncInformer) AddIndexers(ix cache.Indexers) error                { return i.indexer.AddIndexers(ix) }
func (i *syncInformer) SetWatchErrorHandler(cache.WatchErrorHandler) error { return nil }
func (i *syncInformer) SetWatchErrorHandlerWithContext(cache.WatchErrorHandlerWithContext) error {
	return nil
}

func (i *syncInformer) SetTransform(t cache.TransformFunc) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.transform = t
	return nil
}

// replace swaps a stored object for an identical copy laid out elsewhere in memory (see
// nodeLayout) and tells the handlers, as an informer's resync would.
func (i *syncInformer) replace(old, cur interface{}) {
	i.mu.Lock()
	handlers := i.handlers
	i.mu.Unlock()
	_ = i.indexer.Update(cur)
	for _, h := range handlers {
		h.handler.OnUpdate(old, cur)
	}
}

// swap replaces a stored object with an identical copy laid out elsewhere in memory and tells
// no handler: the caller hands the copy to the one consumer that holds it (see podLayout).
func (i *syncInformer) swap(cur interface{}) {
	_ = i.indexer.Update(cur)
}
