package stages

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// matchUnmemoised is Match with every requirement evaluated afresh.
func matchUnmemoised(stages []*Stage, kind string, obj map[string]any) ([]*Stage, error) {
	var out []*Stage
	for _, s := range stages {
		if s.Kind != kind || s.selector == nil {
			continue
		}
		var memo jqMemo
		memo.n = len(memo.entries) // full: remembers nothing
		ok, err := s.matches(obj, &memo)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, s)
		}
	}
	return out, nil
}

func TestMatchMemo(t *testing.T) {
	stages := allKWOKStages(t)
	r := &transitionRunner{stages: generalPodStages(t), rng: rand.New(rand.NewPCG(5, 6)), env: &benchEnv{now: kwokNow}}
	for i := range 40 {
		obj := benchPodObject(t, i*11)
		for n := 0; n < 10; n++ {
			got, gotErr := Match(stages, "Pod", obj)
			want, wantErr := matchUnmemoised(stages, "Pod", obj)
			if !reflect.DeepEqual(got, want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("pod %d state %d: Match %v, %v; want %v, %v", i, n, names(got), gotErr, names(want), wantErr)
			}
			next, deleted, played, err := r.step(obj)
			if err != nil {
				t.Fatal(err)
			}
			if deleted || !played {
				break
			}
			obj = next
		}
	}
}

func names(stages []*Stage) []string {
	var out []string
	for _, s := range stages {
		out = append(out, s.Name)
	}
	return out
}
