package catalog_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hcpmirror/hcpmirror/pkg/catalog"
)

// largeCatalog generates a catalog the size of the big Red Hat ones:
// pkgs packages of n bundles each, in three channels (stable and fast hold
// every bundle, candidate the newer half). Every entry replaces the one
// before and skips up to maxSkips older ones, the shape that made
// oc-mirror's filter run out of memory (OCPBUGS-52471). Bundles carry an
// olm.csv.metadata property of about 1 KiB, as real ones do.
func largeCatalog(pkgs, n, maxSkips int) fstest.MapFS {
	fsys := fstest.MapFS{}
	desc := strings.Repeat("An operator that manages widgets. ", 30)
	for p := range pkgs {
		pkg := fmt.Sprintf("operator-%03d", p)
		var buf bytes.Buffer
		fmt.Fprintf(&buf, `{"schema":"olm.package","name":%q,"defaultChannel":"stable"}`+"\n", pkg)
		name := func(i int) string { return fmt.Sprintf("%s.v1.%d.0", pkg, i) }
		for _, ch := range []struct {
			name  string
			first int
		}{{"stable", 0}, {"fast", 0}, {"candidate", n / 2}} {
			fmt.Fprintf(&buf, `{"schema":"olm.channel","name":%q,"package":%q,"entries":[`, ch.name, pkg)
			for i := ch.first; i < n; i++ {
				if i > ch.first {
					buf.WriteByte(',')
				}
				fmt.Fprintf(&buf, `{"name":%q`, name(i))
				if i > ch.first {
					fmt.Fprintf(&buf, `,"replaces":%q`, name(i-1))
				}
				var skips []string
				for j := i - 2; j >= ch.first && len(skips) < maxSkips; j-- {
					skips = append(skips, fmt.Sprintf("%q", name(j)))
				}
				if len(skips) > 0 {
					fmt.Fprintf(&buf, `,"skips":[%s]`, strings.Join(skips, ","))
				}
				fmt.Fprintf(&buf, `,"skipRange":">=1.0.0 <1.%d.0"}`, i)
			}
			buf.WriteString("]}\n")
		}
		for i := range n {
			fmt.Fprintf(&buf, `{"schema":"olm.bundle","name":%q,"package":%q,"image":"registry.example.com/%s/bundle@sha256:%064d",`+
				`"properties":[{"type":"olm.package","value":{"packageName":%q,"version":"1.%d.0"}},`+
				`{"type":"olm.gvk","value":{"group":"example.com","kind":"Widget","version":"v1"}},`+
				`{"type":"olm.csv.metadata","value":{"description":%q}}],`+
				`"relatedImages":[{"name":"operator","image":"registry.example.com/%s/operator@sha256:%064d"},`+
				`{"name":"proxy","image":"registry.example.com/shared/kube-rbac-proxy@sha256:%064d"}]}`+"\n",
				name(i), pkg, pkg, i, pkg, i, desc, pkg, i, 1)
		}
		fsys[pkg+"/catalog.json"] = &fstest.MapFile{Data: buf.Bytes()}
	}
	return fsys
}

// peakHeap samples the heap every millisecond while fn runs and returns the
// highest value seen above the heap at the start (live objects plus garbage
// not yet collected, so what the process needs with the default GOGC), and
// the bytes allocated by fn.
func peakHeap(fn func()) (peak, allocated uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	base, allocBase := sample[0].Value.Uint64(), sample[1].Value.Uint64()
	var mu sync.Mutex
	max := base
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(s)
				mu.Lock()
				max = maxU(max, s[0].Value.Uint64())
				mu.Unlock()
			}
		}
	}()
	fn()
	close(stop)
	<-done
	metrics.Read(sample)
	mu.Lock()
	defer mu.Unlock()
	max = maxU(max, sample[0].Value.Uint64())
	return max - base, sample[1].Value.Uint64() - allocBase
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// TestLargeCatalogMemory loads and filters a 200-package, 10,000-bundle
// catalog whose entries skip up to 48 bundles each (525,600 skips), and checks that memory
// stays a small multiple of the catalog's size.
func TestLargeCatalogMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures memory on a large catalog; not with -short or -race")
	}
	const pkgs, n, skips = 200, 50, 100
	fsys := largeCatalog(pkgs, n, skips)
	var size uint64
	for _, f := range fsys {
		size += uint64(len(f.Data))
	}
	var cfg *catalog.Config
	var err error
	start := time.Now()
	peak, alloc := peakHeap(func() { cfg, err = catalog.LoadFS(fsys) })
	if err != nil {
		t.Fatal(err)
	}
	var skipCount int
	for _, ch := range cfg.Channels {
		for _, en := range ch.Entries {
			skipCount += len(en.Skips)
		}
	}
	t.Logf("catalog: %d packages, %d channels, %d bundles, %d skips, %.1f MiB of JSON", len(cfg.Packages), len(cfg.Channels), len(cfg.Bundles), skipCount, mib(size))
	t.Logf("LoadFS: %v, peak heap +%.1f MiB, allocated %.1f MiB", time.Since(start).Round(time.Millisecond), mib(peak), mib(alloc))
	if peak > 4*size {
		t.Errorf("LoadFS peak heap %.1f MiB is more than 4x the catalog (%.1f MiB)", mib(peak), mib(size))
	}

	// The same catalog as one layer of an image: the layer's files are
	// released as they are parsed, so the image costs about what the
	// directory does.
	var entries []tarEntry
	for p, f := range fsys {
		entries = append(entries, tarEntry{name: "configs/" + p, data: string(f.Data)})
	}
	img := testImage(t, "/configs", testLayer(t, entries...))
	entries = nil
	start = time.Now()
	peak, alloc = peakHeap(func() { _, err = catalog.Load(context.Background(), img) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Load (image): %v, peak heap +%.1f MiB, allocated %.1f MiB", time.Since(start).Round(time.Millisecond), mib(peak), mib(alloc))
	if peak > 5*size {
		t.Errorf("Load peak heap %.1f MiB is more than 5x the catalog (%.1f MiB)", mib(peak), mib(size))
	}

	ranges := make([]catalog.PackageFilter, 0, pkgs)
	for _, p := range cfg.Packages {
		ranges = append(ranges, catalog.PackageFilter{Name: p.Name, MinVersion: "1.10.0", MaxVersion: "1.40.0"})
	}
	for _, tc := range []struct {
		name    string
		full    bool
		pkgs    []catalog.PackageFilter
		bundles int
	}{
		{"heads", false, nil, pkgs},
		{"ranges", false, ranges, pkgs * 31},
		{"full packages", true, ranges[:0:0], 0},
	} {
		var out *catalog.Config
		start := time.Now()
		pkgsArg := tc.pkgs
		if tc.name == "full packages" {
			for _, p := range cfg.Packages {
				pkgsArg = append(pkgsArg, catalog.PackageFilter{Name: p.Name})
			}
		}
		peak, alloc := peakHeap(func() { out, err = catalog.Filter(cfg, tc.full, pkgsArg) })
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		t.Logf("Filter %s: %v, %d bundles kept, peak heap +%.1f MiB, allocated %.1f MiB", tc.name, time.Since(start).Round(time.Millisecond), len(out.Bundles), mib(peak), mib(alloc))
		if tc.bundles > 0 && len(out.Bundles) != tc.bundles {
			t.Errorf("%s: %d bundles kept, want %d", tc.name, len(out.Bundles), tc.bundles)
		}
		if alloc > size {
			t.Errorf("%s: Filter allocated %.1f MiB, more than the catalog itself (%.1f MiB)", tc.name, mib(alloc), mib(size))
		}
		checkOLM(t, out)
		start = time.Now()
		var files []catalog.File
		peak, alloc = peakHeap(func() { files, err = catalog.Write(out) })
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("Write %s: %v, %d files, peak heap +%.1f MiB, allocated %.1f MiB", tc.name, time.Since(start).Round(time.Millisecond), len(files), mib(peak), mib(alloc))
	}
}

// TestFilterLinear: doubling a channel whose every entry skips every older
// one (the input grows fourfold) grows the filter's allocations no more
// than the input, so no walk is quadratic in skips.
func TestFilterLinear(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures allocations on large channels; not with -short or -race")
	}
	measure := func(n int) (skips int, alloc uint64) {
		cfg, err := catalog.LoadFS(largeCatalog(1, n, n))
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range cfg.Channels[0].Entries {
			skips += len(en.Skips)
		}
		pkgs := []catalog.PackageFilter{{Name: cfg.Packages[0].Name, MinVersion: "1.1.0"}}
		_, alloc = peakHeap(func() {
			if _, err := catalog.Filter(cfg, false, pkgs); err != nil {
				t.Fatal(err)
			}
		})
		return skips, alloc
	}
	s1, a1 := measure(400)
	s2, a2 := measure(800)
	t.Logf("%d skips: %.2f MiB allocated; %d skips: %.2f MiB", s1, mib(a1), s2, mib(a2))
	if float64(a2)/float64(a1) > 1.5*float64(s2)/float64(s1) {
		t.Errorf("allocations grew %.1fx for %.1fx the skips", float64(a2)/float64(a1), float64(s2)/float64(s1))
	}
}

func BenchmarkLoadFS(b *testing.B) {
	fsys := largeCatalog(200, 50, 100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := catalog.LoadFS(fsys); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilter(b *testing.B) {
	cfg, err := catalog.LoadFS(largeCatalog(200, 50, 100))
	if err != nil {
		b.Fatal(err)
	}
	var ranges []catalog.PackageFilter
	for _, p := range cfg.Packages {
		ranges = append(ranges, catalog.PackageFilter{Name: p.Name, MinVersion: "1.10.0", MaxVersion: "1.40.0"})
	}
	for _, bc := range []struct {
		name string
		pkgs []catalog.PackageFilter
	}{{"heads", nil}, {"ranges", ranges}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := catalog.Filter(cfg, false, bc.pkgs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
