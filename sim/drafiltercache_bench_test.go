package sim

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkDRAFilterCache schedules the same device pods with DynamicResources' answers kept
// and without, alternating, and reports each run's wall time and their ratio: 500 nodes of
// four shared cards, and 1,500 pods that each claim 300 to 700 of a card's 1000 gpuMilli
// (five shapes), created at once. `make bench` runs it; the openb figures are in the README's
// performance section.
func BenchmarkDRAFilterCache(b *testing.B) {
	const nodes, pods = 500, 1500
	run := func(noCache bool) (time.Duration, int, int) {
		s, err := New(b.Context(), Config{Seed: 1, NoDRAFilterCache: noCache})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		if _, err := s.API().Create(gpuClass()); err != nil {
			b.Fatal(err)
		}
		for i := range nodes {
			name := fmt.Sprintf("n%03d", i)
			if _, err := s.API().Create(node(name)); err != nil {
				b.Fatal(err)
			}
			if _, err := s.API().Create(cards(name, 4)); err != nil {
				b.Fatal(err)
			}
		}
		for i := range pods {
			name := fmt.Sprintf("p%04d", i)
			if _, err := s.API().Create(gpuClaim(name, 1, fmt.Sprint(300+100*(i%5)))); err != nil {
				b.Fatal(err)
			}
			if _, err := s.API().Create(claimingPod(name, name)); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		if err := s.Run(); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		hits, misses := 0, 0
		for _, c := range s.driver.draCaches {
			hits, misses = hits+c.hits, misses+c.misses
		}
		return elapsed, hits, misses
	}
	var plain, cached time.Duration
	var hits, misses int
	for range b.N {
		p, _, _ := run(true)
		c, h, m := run(false)
		plain, cached, hits, misses = plain+p, cached+c, hits+h, misses+m
	}
	b.ReportMetric(plain.Seconds()/float64(b.N), "s-plain")
	b.ReportMetric(cached.Seconds()/float64(b.N), "s-cached")
	b.ReportMetric(plain.Seconds()/cached.Seconds(), "speedup")
	b.ReportMetric(float64(hits)/float64(hits+misses), "hit-rate")
}
