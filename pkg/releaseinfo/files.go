package releaseinfo

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/hcpmirror/hcpmirror/pkg/mirrorset"
	"github.com/hcpmirror/hcpmirror/pkg/registry"
)

// maxImageFiles bounds what ImageFiles keeps: a few node files are
// expected, not a filesystem.
const (
	maxImageFile  = 4 << 20
	maxImageFiles = 16 << 20
)

// ImageFiles are the regular files under one directory of an image, as the
// image's layers leave them when unpacked in order.
type ImageFiles struct {
	// Reference is the reference asked for, normalised.
	Reference string
	// ServedBy is the physical reference that served the image.
	ServedBy string
	// Platform is the platform of the image read, "linux/arm64" for
	// instance: the child of a manifest list chosen for the Provider's
	// platform.
	Platform string
	// Files maps each file's path below the directory to its bytes.
	Files map[string][]byte
}

// ImageFiles resolves image through mirrors and returns the regular files
// under dir (a path inside the image such as "etc/mcs/bootstrap/files/"),
// read from the first pull source that serves the manifest and every layer,
// for the Provider's platform. Like Lookup it never contacts a
// NeverContactSource source, and caches per image, pull secret, pull
// sources, platform and dir. Whiteouts of later layers remove files of
// earlier ones, as unpacking would.
func (p *Provider) ImageFiles(ctx context.Context, mirrors *mirrorset.Config, image string, pullSecret []byte, dir string) (*ImageFiles, error) {
	dir = strings.TrimPrefix(path.Clean("/"+dir), "/") + "/"
	pl, err := p.plan("files\x00"+dir, mirrors, image, pullSecret)
	if err != nil {
		return nil, fmt.Errorf("reading %s of an image: %w", dir, err)
	}
	return cached(ctx, p, p.files, pl, func(ctx context.Context, pl *plan) (*ImageFiles, error) {
		client, err := p.client(pl)
		if err != nil {
			return nil, err
		}
		out, err := registry.FromSources(ctx, pl.sources, func(ctx context.Context, src string) (*ImageFiles, error) {
			img, err := client.Image(ctx, src, p.opts.platform)
			if err != nil {
				return nil, err
			}
			cfg, err := img.ConfigFile()
			if err != nil {
				return nil, client.WrapError(ctx, src, "", fmt.Errorf("reading the image config: %w", err))
			}
			files, err := readDir(img, dir)
			if err != nil {
				var re *registry.Error
				if errors.As(err, &re) {
					return nil, err
				}
				return nil, fmt.Errorf("%s served by %s: %w", pl.ref, src, err)
			}
			return &ImageFiles{Reference: pl.ref.String(), ServedBy: src, Platform: platformString(cfg.OS, cfg.Architecture, cfg.Variant), Files: files}, nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading %s of %s: %w", dir, pl.ref, err)
		}
		return out, nil
	})
}

// readDir unpacks the files under dir from every layer of img, in order.
func readDir(img *registry.Image, dir string) (map[string][]byte, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	total := 0
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, err
		}
		err = func() error {
			defer rc.Close()
			tr := tar.NewReader(rc)
			for {
				hdr, err := tr.Next()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
				base := path.Base(name)
				if base == ".wh..wh..opq" {
					// An opaque directory: nothing of the layers below
					// shows through it (the marker precedes the layer's
					// own files in that directory).
					opaque := path.Dir(name) + "/"
					for k := range files {
						if strings.HasPrefix(dir+k, opaque) {
							delete(files, k)
						}
					}
					continue
				}
				if wh, ok := strings.CutPrefix(base, ".wh."); ok {
					gone := path.Join(path.Dir(name), wh)
					for k := range files {
						if dir+k == gone || strings.HasPrefix(dir+k, gone+"/") {
							delete(files, k)
						}
					}
					continue
				}
				rel, ok := strings.CutPrefix(name, dir)
				if !ok || hdr.Typeflag != tar.TypeReg {
					continue
				}
				b, err := io.ReadAll(io.LimitReader(tr, maxImageFile+1))
				if err != nil {
					return err
				}
				if len(b) > maxImageFile {
					return fmt.Errorf("layer %d: %s: larger than %d MiB", i, name, maxImageFile>>20)
				}
				if total += len(b); total > maxImageFiles {
					return fmt.Errorf("layer %d: the files under %s exceed %d MiB", i, dir, maxImageFiles>>20)
				}
				files[rel] = b
			}
		}()
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}
