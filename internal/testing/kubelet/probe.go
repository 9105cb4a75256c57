package kubelet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	health "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Ready runs the container's readiness probe once, as a kubelet's prober
// does, against the host port its containerPort was given: an HTTP GET
// (status 200 to 399), a TCP connect, or a gRPC health Check (SERVING,
// the probe's service name, a fresh plaintext connection). nil means
// ready; a container without a readiness probe is ready.
func (p *Pod) Ready(ctx context.Context) error {
	ct, err := p.container()
	if err != nil {
		return err
	}
	return p.probe(ctx, ct, ct.ReadinessProbe)
}

// Live runs the container's liveness probe once, as Ready does.
func (p *Pod) Live(ctx context.Context) error {
	ct, err := p.container()
	if err != nil {
		return err
	}
	return p.probe(ctx, ct, ct.LivenessProbe)
}

func (p *Pod) probe(ctx context.Context, ct *corev1.Container, pr *corev1.Probe) error {
	if pr == nil {
		return nil
	}
	timeout := time.Duration(max(pr.TimeoutSeconds, 1)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case pr.HTTPGet != nil:
		port, err := p.hostPort(ct, pr.HTTPGet.Port)
		if err != nil {
			return err
		}
		scheme := "http"
		if pr.HTTPGet.Scheme == corev1.URISchemeHTTPS {
			scheme = "https"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s://127.0.0.1:%d%s", scheme, port, pr.HTTPGet.Path), nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP probe %s: %s", pr.HTTPGet.Path, resp.Status)
		}
		return nil
	case pr.TCPSocket != nil:
		port, err := p.hostPort(ct, pr.TCPSocket.Port)
		if err != nil {
			return err
		}
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			return err
		}
		return conn.Close()
	case pr.GRPC != nil:
		port, err := p.hostPort(ct, intstr.FromInt32(pr.GRPC.Port))
		if err != nil {
			return err
		}
		conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer conn.Close()
		service := ""
		if pr.GRPC.Service != nil {
			service = *pr.GRPC.Service
		}
		r, err := health.NewHealthClient(conn).Check(ctx, &health.HealthCheckRequest{Service: service})
		if err != nil {
			return fmt.Errorf("gRPC probe: %w", err)
		}
		if r.Status != health.HealthCheckResponse_SERVING {
			return fmt.Errorf("gRPC probe: %v", r.Status)
		}
		return nil
	}
	return errors.New("probe: no handler the stand-in runs (exec probes are not supported)")
}

// hostPort maps a probe's port (number or containerPort name) to its host
// port.
func (p *Pod) hostPort(ct *corev1.Container, port intstr.IntOrString) (int, error) {
	n := port.IntVal
	if port.Type == intstr.String {
		n = 0
		for _, cp := range ct.Ports {
			if cp.Name == port.StrVal {
				n = cp.ContainerPort
			}
		}
	}
	if hp, ok := p.ports[n]; ok {
		return hp, nil
	}
	return 0, fmt.Errorf("probe port %s is not a declared containerPort", port.String())
}
