package catalogserver_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	health "google.golang.org/grpc/health/grpc_health_v1"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/operator-framework/operator-registry/pkg/api"
	"github.com/operator-framework/operator-registry/pkg/cache"
	"github.com/operator-framework/operator-registry/pkg/server"

	"github.com/hcpmirror/hcpmirror/internal/catalogserver"
	"github.com/hcpmirror/hcpmirror/pkg/catalog"
)

// startOPM serves the catalog directory dir as `opm serve` does: its cache
// (built in a temporary directory), its registry and health servers, on a
// grpc-go server on 127.0.0.1.
func startOPM(t testing.TB, dir string) string {
	t.Helper()
	ctx := context.Background()
	c, err := cache.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := cache.LoadOrRebuild(ctx, c, os.DirFS(dir)); err != nil {
		t.Fatalf("opm cache: %v", err)
	}
	s := grpc.NewServer()
	api.RegisterRegistryServer(s, server.NewRegistryServer(c))
	health.RegisterHealthServer(s, server.NewHealthServer())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { s.Stop(); _ = c.Close() })
	return ln.Addr().String()
}

// startOurs serves dir with this package's server.
func startOurs(t testing.TB, dir string) (string, *catalogserver.Server) {
	t.Helper()
	cfg, err := catalog.LoadFS(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	var s catalogserver.Server
	if _, err := s.Load(cfg); err != nil {
		t.Fatal(err)
	}
	return serve(t, &s), &s
}

func serve(t testing.TB, s *catalogserver.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// dial connects a grpc-go client to addr. Reconnection is retried every
// few milliseconds (grpc-go waits a second after a refused connection by
// default), so that a wait for a starting server measures the server.
func dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 5 * time.Millisecond, Multiplier: 1, MaxDelay: 5 * time.Millisecond}, MinConnectTimeout: time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// answer is what one call returned: messages (a stream's sorted, since
// opm streams in map order) or a status.
type answer struct {
	msgs []proto.Message
	code string
	msg  string
}

type call func(ctx context.Context, c api.RegistryClient) ([]proto.Message, error)

func unary[T proto.Message](f func(ctx context.Context, c api.RegistryClient) (T, error)) call {
	return func(ctx context.Context, c api.RegistryClient) ([]proto.Message, error) {
		m, err := f(ctx, c)
		if err != nil {
			return nil, err
		}
		return []proto.Message{m}, nil
	}
}

type receiver[T proto.Message] interface{ Recv() (T, error) }

func stream[T proto.Message, S receiver[T]](f func(ctx context.Context, c api.RegistryClient) (S, error)) call {
	return func(ctx context.Context, c api.RegistryClient) ([]proto.Message, error) {
		s, err := f(ctx, c)
		if err != nil {
			return nil, err
		}
		var out []proto.Message
		for {
			m, err := s.Recv()
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			if err != nil {
				return out, err
			}
			out = append(out, m)
		}
	}
}

func ask(t *testing.T, c api.RegistryClient, f call) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := f(ctx, c)
	var a answer
	if err != nil {
		st, ok := grpcstatus.FromError(err)
		if !ok {
			t.Fatalf("not a gRPC status: %v", err)
		}
		a.code, a.msg = st.Code().String(), st.Message()
	}
	slices.SortFunc(msgs, func(x, y proto.Message) int {
		bx, _ := proto.MarshalOptions{Deterministic: true}.Marshal(x)
		by, _ := proto.MarshalOptions{Deterministic: true}.Marshal(y)
		return strings.Compare(string(bx), string(by))
	})
	a.msgs = msgs
	return a
}

// registryCalls is every RPC of api.Registry, with arguments that hit and
// miss: the oracle table.
func registryCalls() map[string]call {
	getBundle := func(pkg, ch, csv string) call {
		return unary(func(ctx context.Context, c api.RegistryClient) (*api.Bundle, error) {
			return c.GetBundle(ctx, &api.GetBundleRequest{PkgName: pkg, ChannelName: ch, CsvName: csv})
		})
	}
	getPackage := func(name string) call {
		return unary(func(ctx context.Context, c api.RegistryClient) (*api.Package, error) {
			return c.GetPackage(ctx, &api.GetPackageRequest{Name: name})
		})
	}
	forChannel := func(pkg, ch string) call {
		return unary(func(ctx context.Context, c api.RegistryClient) (*api.Bundle, error) {
			return c.GetBundleForChannel(ctx, &api.GetBundleInChannelRequest{PkgName: pkg, ChannelName: ch})
		})
	}
	replaces := func(csv string) call {
		return stream[*api.ChannelEntry](func(ctx context.Context, c api.RegistryClient) (api.Registry_GetChannelEntriesThatReplaceClient, error) {
			return c.GetChannelEntriesThatReplace(ctx, &api.GetAllReplacementsRequest{CsvName: csv})
		})
	}
	replacement := func(csv, pkg, ch string) call {
		return unary(func(ctx context.Context, c api.RegistryClient) (*api.Bundle, error) {
			return c.GetBundleThatReplaces(ctx, &api.GetReplacementRequest{CsvName: csv, PkgName: pkg, ChannelName: ch})
		})
	}
	provide := func(g, v, k string) call {
		return stream[*api.ChannelEntry](func(ctx context.Context, c api.RegistryClient) (api.Registry_GetChannelEntriesThatProvideClient, error) {
			return c.GetChannelEntriesThatProvide(ctx, &api.GetAllProvidersRequest{Group: g, Version: v, Kind: k})
		})
	}
	latest := func(g, v, k string) call {
		return stream[*api.ChannelEntry](func(ctx context.Context, c api.RegistryClient) (api.Registry_GetLatestChannelEntriesThatProvideClient, error) {
			return c.GetLatestChannelEntriesThatProvide(ctx, &api.GetLatestProvidersRequest{Group: g, Version: v, Kind: k})
		})
	}
	defaultProvider := func(g, v, k string) call {
		return unary(func(ctx context.Context, c api.RegistryClient) (*api.Bundle, error) {
			return c.GetDefaultBundleThatProvides(ctx, &api.GetDefaultProviderRequest{Group: g, Version: v, Kind: k})
		})
	}
	return map[string]call{
		"ListPackages": stream[*api.PackageName](func(ctx context.Context, c api.RegistryClient) (api.Registry_ListPackagesClient, error) {
			return c.ListPackages(ctx, &api.ListPackageRequest{})
		}),
		"ListBundles": stream[*api.Bundle](func(ctx context.Context, c api.RegistryClient) (api.Registry_ListBundlesClient, error) {
			return c.ListBundles(ctx, &api.ListBundlesRequest{})
		}),
		"GetPackage etcd":                                 getPackage("etcd"),
		"GetPackage prometheus":                           getPackage("prometheus"),
		"GetPackage deprecated":                           getPackage("legacy-op"),
		"GetPackage unknown":                              getPackage("nope"),
		"GetPackage empty":                                getPackage(""),
		"GetBundle with manifests":                        getBundle("etcd", "stable", "etcd.v1.0.0"),
		"GetBundle YAML manifests":                        getBundle("etcd", "alpha", "etcd.v0.9.2"),
		"GetBundle skipRange":                             getBundle("etcd", "stable", "etcd.v0.9.2"),
		"GetBundle csv metadata":                          getBundle("prometheus", "beta", "prometheus.v0.2.0"),
		"GetBundle csv metadata, small":                   getBundle("prometheus", "beta", "prometheus.v0.1.0"),
		"GetBundle deprecated":                            getBundle("legacy-op", "old", "legacy-op.v1.0.0"),
		"GetBundle without image":                         getBundle("legacy-op", "stable", "legacy-op.v1.1.0"),
		"GetBundle unknown package":                       getBundle("nope", "stable", "x"),
		"GetBundle unknown channel":                       getBundle("etcd", "nope", "etcd.v1.0.0"),
		"GetBundle unknown bundle":                        getBundle("etcd", "stable", "etcd.v0.9.1"),
		"GetBundleForChannel":                             forChannel("etcd", "alpha"),
		"GetBundleForChannel two channels":                forChannel("prometheus", "alpha"),
		"GetBundleForChannel unknown package":             forChannel("nope", "alpha"),
		"GetBundleForChannel unknown channel":             forChannel("etcd", "nope"),
		"GetChannelEntriesThatReplace":                    replaces("etcd.v0.9.0"),
		"GetChannelEntriesThatReplace skip":               replaces("etcd.v0.9.1"),
		"GetChannelEntriesThatReplace none":               replaces("etcd.v1.0.0"),
		"GetBundleThatReplaces":                           replacement("etcd.v0.9.2", "etcd", "stable"),
		"GetBundleThatReplaces by skip":                   replacement("prometheus.v0.0.9", "prometheus", "alpha"),
		"GetBundleThatReplaces none":                      replacement("etcd.v1.0.0", "etcd", "stable"),
		"GetBundleThatReplaces no package":                replacement("x", "nope", "stable"),
		"GetBundleThatReplaces no channel":                replacement("x", "etcd", "nope"),
		"GetChannelEntriesThatProvide":                    provide("etcd.database.coreos.com", "v1beta2", "EtcdCluster"),
		"GetChannelEntriesThatProvide two":                provide("example.com", "v1", "Widget"),
		"GetChannelEntriesThatProvide none":               provide("example.com", "v2", "Widget"),
		"GetLatestChannelEntriesThatProvide":              latest("etcd.database.coreos.com", "v1beta2", "EtcdCluster"),
		"GetLatestChannelEntriesThatProvide two packages": latest("example.com", "v1", "Widget"),
		"GetLatestChannelEntriesThatProvide none":         latest("example.com", "v1", "Gadget"),
		"GetDefaultBundleThatProvides":                    defaultProvider("monitoring.coreos.com", "v1", "ServiceMonitor"),
		"GetDefaultBundleThatProvides two packages":       defaultProvider("example.com", "v1", "Widget"),
		"GetDefaultBundleThatProvides not default":        defaultProvider("etcd.database.coreos.com", "v1", "EtcdBackup"),
		"GetDefaultBundleThatProvides none":               defaultProvider("example.com", "v1", "Gadget"),
	}
}

// TestOracle serves one catalog with operator-registry's own server (what
// `opm serve` runs) and with this package's, and asks both every RPC:
// the answers, messages and statuses alike, must be the same.
func TestOracle(t *testing.T) {
	dir := t.TempDir()
	writeCatalog(t, dir, oracleCatalog())
	theirs := api.NewRegistryClient(dial(t, startOPM(t, dir)))
	ourAddr, _ := startOurs(t, dir)
	ours := api.NewRegistryClient(dial(t, ourAddr))
	for name, f := range registryCalls() {
		t.Run(name, func(t *testing.T) {
			want := ask(t, theirs, f)
			got := ask(t, ours, f)
			if diff := cmp.Diff(want, got, protocmp.Transform(), cmp.AllowUnexported(answer{})); diff != "" {
				t.Errorf("answers differ (-opm +ours):\n%s", diff)
			}
			if want.code == "" && len(want.msgs) == 0 {
				t.Errorf("opm answered nothing: the case tests nothing")
			}
		})
	}
}

// TestHealth checks the health service: NOT_SERVING before a catalog is
// loaded, SERVING after, as the readiness probe reads it.
func TestHealth(t *testing.T) {
	var s catalogserver.Server
	c := health.NewHealthClient(dial(t, serve(t, &s)))
	ctx := context.Background()
	check := func() health.HealthCheckResponse_ServingStatus {
		t.Helper()
		r, err := c.Check(ctx, &health.HealthCheckRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	if got := check(); got != health.HealthCheckResponse_NOT_SERVING {
		t.Errorf("before a catalog: %v, want NOT_SERVING", got)
	}
	_, err := api.NewRegistryClient(dial(t, serve(t, &s))).GetPackage(ctx, &api.GetPackageRequest{Name: "etcd"})
	if st, _ := grpcstatus.FromError(err); st.Code().String() != "Unavailable" {
		t.Errorf("GetPackage before a catalog: %v, want Unavailable", err)
	}
	dir := t.TempDir()
	writeCatalog(t, dir, oracleCatalog())
	cfg, err := catalog.LoadFS(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(cfg); err != nil {
		t.Fatal(err)
	}
	if got := check(); got != health.HealthCheckResponse_SERVING {
		t.Errorf("with a catalog: %v, want SERVING", got)
	}
	if _, err := c.Watch(ctx, &health.HealthCheckRequest{}); err == nil {
		// Watch is a stream: the status comes with the first Recv.
		w, _ := c.Watch(ctx, &health.HealthCheckRequest{})
		if _, err := w.Recv(); grpcstatus.Code(err).String() != "Unimplemented" {
			t.Errorf("Watch: %v, want Unimplemented", err)
		}
	}
}

// TestRefusedAlike loads catalogs that are not servable, and a few that
// are barely so, with both servers: each must refuse what opm refuses.
func TestRefusedAlike(t *testing.T) {
	bundle := func(name, version string, extra ...obj) obj {
		props := []obj{pkgProp("p", version)}
		props = append(props, extra...)
		return obj{"schema": "olm.bundle", "package": "p", "name": name, "image": "quay.io/p/bundle:" + version, "properties": props}
	}
	pkgObj := obj{"schema": "olm.package", "name": "p", "defaultChannel": "stable"}
	channel := func(entries ...obj) obj {
		return obj{"schema": "olm.channel", "package": "p", "name": "stable", "entries": entries}
	}
	for name, objs := range map[string][]obj{
		"valid":                {pkgObj, channel(obj{"name": "p.v1"}), bundle("p.v1", "1.0.0")},
		"two heads":            {pkgObj, channel(obj{"name": "p.v1"}, obj{"name": "p.v2"}), bundle("p.v1", "1.0.0"), bundle("p.v2", "2.0.0")},
		"cycle":                {pkgObj, channel(obj{"name": "p.v1", "replaces": "p.v2"}, obj{"name": "p.v2", "replaces": "p.v1"}, obj{"name": "p.v3", "replaces": "p.v2"}), bundle("p.v1", "1.0.0"), bundle("p.v2", "2.0.0"), bundle("p.v3", "3.0.0")},
		"stranded":             {pkgObj, channel(obj{"name": "p.v1"}, obj{"name": "p.v2", "skips": []string{"p.v0"}}, obj{"name": "p.v3", "replaces": "p.v2", "skips": []string{"p.v1"}}), bundle("p.v1", "1.0.0"), bundle("p.v2", "2.0.0"), bundle("p.v3", "3.0.0")},
		"skipped tail":         {pkgObj, channel(obj{"name": "p.v1"}, obj{"name": "p.v2", "replaces": "p.v1", "skips": []string{"p.v1"}}), bundle("p.v1", "1.0.0"), bundle("p.v2", "2.0.0")},
		"bundle in no channel": {pkgObj, channel(obj{"name": "p.v1"}), bundle("p.v1", "1.0.0"), bundle("p.v2", "2.0.0")},
		"entry without bundle": {pkgObj, channel(obj{"name": "p.v1"}, obj{"name": "p.v2", "replaces": "p.v1"}), bundle("p.v1", "1.0.0")},
		"not semver":           {pkgObj, channel(obj{"name": "p.v1"}), bundle("p.v1", "1.0")},
		"bad skipRange":        {pkgObj, channel(obj{"name": "p.v1", "skipRange": "not a range"}), bundle("p.v1", "1.0.0")},
		"no default channel":   {{"schema": "olm.package", "name": "p"}, channel(obj{"name": "p.v1"}), bundle("p.v1", "1.0.0")},
		"missing default":      {{"schema": "olm.package", "name": "p", "defaultChannel": "fast"}, channel(obj{"name": "p.v1"}), bundle("p.v1", "1.0.0")},
		"two packages props":   {pkgObj, channel(obj{"name": "p.v1"}), bundle("p.v1", "1.0.0", pkgProp("p", "1.0.0"))},
		"other package prop":   {pkgObj, channel(obj{"name": "p.v1"}), obj{"schema": "olm.bundle", "package": "p", "name": "p.v1", "image": "quay.io/p/b:1", "properties": []obj{pkgProp("q", "1.0.0")}}},
		"bad image":            {pkgObj, channel(obj{"name": "p.v1"}), obj{"schema": "olm.bundle", "package": "p", "name": "p.v1", "image": "quay.io/p/B:1", "properties": []obj{pkgProp("p", "1.0.0")}}},
		"no image":             {pkgObj, channel(obj{"name": "p.v1"}), obj{"schema": "olm.bundle", "package": "p", "name": "p.v1", "properties": []obj{pkgProp("p", "1.0.0")}}},
		"bad gvk value":        {pkgObj, channel(obj{"name": "p.v1"}), bundle("p.v1", "1.0.0", prop("olm.gvk", []int{1}))},
		"bad package name":     {{"schema": "olm.package", "name": "P_1", "defaultChannel": "stable"}},
		"unknown deprecation":  {pkgObj, channel(obj{"name": "p.v1"}), bundle("p.v1", "1.0.0"), {"schema": "olm.deprecations", "package": "p", "entries": []obj{{"reference": obj{"schema": "olm.bundle", "name": "p.v9"}, "message": "x"}}}},
		"two csv metadata":     {pkgObj, channel(obj{"name": "p.v1"}), bundle("p.v1", "1.0.0", prop("olm.csv.metadata", obj{}), prop("olm.csv.metadata", obj{}))},
		"empty skip":           {pkgObj, channel(obj{"name": "p.v1", "skips": []string{""}}), bundle("p.v1", "1.0.0")},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeCatalog(t, dir, map[string][]obj{"p/catalog.json": objs})
			c, err := cache.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			opmErr := cache.LoadOrRebuild(context.Background(), c, os.DirFS(dir))
			var ourErr error
			cfg, err := catalog.LoadFS(os.DirFS(dir))
			if err != nil {
				ourErr = err
			} else {
				var s catalogserver.Server
				_, ourErr = s.Load(cfg)
			}
			if (opmErr == nil) != (ourErr == nil) {
				t.Errorf("opm: %v\nours: %v", opmErr, ourErr)
			}
		})
	}
}

// TestUnimplemented asks both servers for what neither serves.
func TestUnimplemented(t *testing.T) {
	dir := t.TempDir()
	writeCatalog(t, dir, oracleCatalog())
	ourAddr, _ := startOurs(t, dir)
	for _, method := range []string{"/api.Registry/NoSuchMethod", "/api.NoSuchService/ListPackages", "/grpc.health.v1.Health/List"} {
		for who, addr := range map[string]string{"opm": startOPM(t, dir), "ours": ourAddr} {
			err := dial(t, addr).Invoke(context.Background(), method, &api.ListPackageRequest{}, &api.PackageName{})
			if code := grpcstatus.Code(err).String(); code != "Unimplemented" {
				t.Errorf("%s: %s: %v, want Unimplemented", who, method, err)
			}
		}
	}
}

// TestOracleUpstreamCatalogs serves operator-registry's own test catalogs
// (its module's testdata, read where the module cache holds it) with both
// servers and compares, for each, every package, every bundle by name and
// channel, every channel head, ListPackages and ListBundles.
func TestOracleUpstreamCatalogs(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/operator-framework/operator-registry").Output()
	if err != nil {
		t.Fatalf("locating operator-registry: %v", err)
	}
	root := strings.TrimSpace(string(out))
	dirs := []string{"fbc-dir/file-based-catalog", "alpha/action/testdata/list-index", "alpha/action/testdata/foo-index-v0.2.0-declcfg", "test/e2e/testdata/test-configs"}
	for _, d := range []string{"latest", "old", "exp-headsonly", "exp-include-channel", "exp-include-pkg", "exp-latest"} {
		dirs = append(dirs, "alpha/action/testdata/index-declcfgs/"+d)
	}
	compared := 0
	for _, d := range dirs {
		t.Run(d, func(t *testing.T) {
			dir := filepath.Join(root, d)
			c, err := cache.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			opmErr := cache.LoadOrRebuild(context.Background(), c, os.DirFS(dir))
			_ = c.Close()
			cfg, ourErr := catalog.LoadFS(os.DirFS(dir))
			if ourErr == nil {
				var s catalogserver.Server
				_, ourErr = s.Load(cfg)
			}
			if (opmErr == nil) != (ourErr == nil) {
				t.Fatalf("opm: %v\nours: %v", opmErr, ourErr)
			}
			if opmErr != nil {
				t.Skipf("neither serves it: %v", opmErr)
			}
			theirs := api.NewRegistryClient(dial(t, startOPM(t, dir)))
			ourAddr, _ := startOurs(t, dir)
			ours := api.NewRegistryClient(dial(t, ourAddr))
			calls := registryCalls()
			listed := ask(t, theirs, calls["ListBundles"])
			for _, m := range listed.msgs {
				b := m.(*api.Bundle)
				calls["GetBundle "+b.PackageName+"/"+b.ChannelName+"/"+b.CsvName] = unary(func(ctx context.Context, c api.RegistryClient) (*api.Bundle, error) {
					return c.GetBundle(ctx, &api.GetBundleRequest{PkgName: b.PackageName, ChannelName: b.ChannelName, CsvName: b.CsvName})
				})
				calls["GetPackage "+b.PackageName] = unary(func(ctx context.Context, c api.RegistryClient) (*api.Package, error) {
					return c.GetPackage(ctx, &api.GetPackageRequest{Name: b.PackageName})
				})
				calls["GetBundleForChannel "+b.PackageName+"/"+b.ChannelName] = unary(func(ctx context.Context, c api.RegistryClient) (*api.Bundle, error) {
					return c.GetBundleForChannel(ctx, &api.GetBundleInChannelRequest{PkgName: b.PackageName, ChannelName: b.ChannelName})
				})
				calls["GetChannelEntriesThatReplace "+b.CsvName] = stream[*api.ChannelEntry](func(ctx context.Context, c api.RegistryClient) (api.Registry_GetChannelEntriesThatReplaceClient, error) {
					return c.GetChannelEntriesThatReplace(ctx, &api.GetAllReplacementsRequest{CsvName: b.CsvName})
				})
				for _, g := range b.ProvidedApis {
					calls["GetDefaultBundleThatProvides "+g.String()] = unary(func(ctx context.Context, c api.RegistryClient) (*api.Bundle, error) {
						return c.GetDefaultBundleThatProvides(ctx, &api.GetDefaultProviderRequest{Group: g.Group, Version: g.Version, Kind: g.Kind})
					})
					calls["GetLatestChannelEntriesThatProvide "+g.String()] = stream[*api.ChannelEntry](func(ctx context.Context, c api.RegistryClient) (api.Registry_GetLatestChannelEntriesThatProvideClient, error) {
						return c.GetLatestChannelEntriesThatProvide(ctx, &api.GetLatestProvidersRequest{Group: g.Group, Version: g.Version, Kind: g.Kind})
					})
				}
			}
			for name, f := range calls {
				want, got := ask(t, theirs, f), ask(t, ours, f)
				if diff := cmp.Diff(want, got, protocmp.Transform(), cmp.AllowUnexported(answer{})); diff != "" {
					t.Errorf("%s: answers differ (-opm +ours):\n%s", name, diff)
				}
			}
			compared++
			t.Logf("%d calls, %d bundles listed", len(calls), len(listed.msgs))
		})
	}
	if compared == 0 {
		t.Error("no upstream catalog was compared")
	}
}
