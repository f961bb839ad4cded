package manifest

import (
	"fmt"

	"github.com/kwoksim/kwoksim/autoscaling"
)

// decodeNodePool reads a kwoksim/v1alpha1 NodePool of a mixed input (--workload, -f): its group
// is kwoksim's own, which the client-go scheme does not know, so the autoscaling package
// decodes and validates it. The pool is kept as an Object (*autoscaling.NodePool) for the
// caller to take out: the simulated apiserver does not store it.
func (l *loader) decodeNodePool(src Source, j []byte, where string) {
	if l.opts.Kinds != nil && !l.opts.Kinds[autoscaling.Kind] {
		l.fail(src, src.Line, where, fmt.Sprintf("kind %q is not accepted here; expected %s", autoscaling.Kind, expectedKinds(l.opts.Kinds)))
		return
	}
	pool, err := autoscaling.Decode(j)
	if err != nil {
		l.fail(src, src.Line, where, err.Error())
		return
	}
	if msg := checkDevicesAnnotation(pool); msg != "" {
		l.fail(src, src.Line, where, msg)
		return
	}
	l.objs = append(l.objs, Object{Obj: pool, Source: src})
}
