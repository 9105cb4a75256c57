// Command opmpeer is the benchmark's peer: what `opm serve DIR
// --cache-dir CACHE` runs (operator-registry v1.73.0's cache, registry and
// health servers on grpc-go), as a process of its own so that its memory
// can be measured beside hcpmirror catalog-server's. Test-only: it lives
// under testdata, out of every ./... build.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"

	"google.golang.org/grpc"
	health "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/operator-framework/operator-registry/pkg/api"
	"github.com/operator-framework/operator-registry/pkg/cache"
	"github.com/operator-framework/operator-registry/pkg/server"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "gRPC address")
	cacheDir := flag.String("cache-dir", "", "opm's cache directory")
	flag.Parse()
	if err := run(flag.Arg(0), *listen, *cacheDir); err != nil {
		fmt.Fprintln(os.Stderr, "opmpeer:", err)
		os.Exit(1)
	}
}

func run(dir, listen, cacheDir string) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String()) // the benchmark reads the address
	c, err := cache.New(cacheDir)
	if err != nil {
		return err
	}
	if err := cache.LoadOrRebuild(context.Background(), c, os.DirFS(dir)); err != nil {
		return err
	}
	s := grpc.NewServer()
	api.RegisterRegistryServer(s, server.NewRegistryServer(c))
	health.RegisterHealthServer(s, server.NewHealthServer())
	return s.Serve(ln)
}
