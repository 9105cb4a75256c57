package imageset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/blang/semver/v4"
	"sigs.k8s.io/yaml"

	"github.com/hcpmirror/hcpmirror/pkg/imageref"
)

// Note is something a file asks for that hcpmirror accepts but handles
// differently than oc-mirror would; the command prints it.
type Note struct {
	// Field is the field path, e.g. storageConfig.
	Field string
	// Message says what hcpmirror does instead.
	Message string
}

func (n Note) String() string { return n.Field + ": " + n.Message }

// Load reads and validates one ImageSetConfiguration file. Every problem is
// reported at once (errors.Join), each prefixed with the file name and the
// field path.
func Load(path string) (*ImageSetConfiguration, []Note, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading image set configuration: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for content already read; file names it in errors.
func Parse(file string, data []byte) (*ImageSetConfiguration, []Note, error) {
	errf := func(format string, args ...any) error {
		return fmt.Errorf("%s: "+format, append([]any{file}, args...)...)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, nil, errf("not YAML or JSON: %w", err)
	}
	var raw any
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, errf("%w", err)
	}
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, nil, errf("not an object")
	}
	apiVersion, _ := top["apiVersion"].(string)
	kind, _ := top["kind"].(string)
	var head []error
	if kind != Kind {
		head = append(head, errf("kind: %q is not %s", kind, Kind))
	}
	var version string
	switch apiVersion {
	case APIVersionV1Alpha2:
		version = "v1alpha2"
	case APIVersionV2Alpha1:
		version = "v2alpha1"
	default:
		head = append(head, errf("apiVersion: %q is neither %s nor %s", apiVersion, APIVersionV1Alpha2, APIVersionV2Alpha1))
	}
	if len(head) > 0 {
		return nil, nil, errors.Join(head...)
	}
	var errs []error
	for _, e := range checkFields(raw, reflect.TypeOf(ImageSetConfiguration{}), "", version) {
		errs = append(errs, errf("%w", e))
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	var isc ImageSetConfiguration
	if err := json.Unmarshal(js, &isc); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, nil, errf("%s: want %s, not a JSON %s", te.Field, te.Type, te.Value)
		}
		return nil, nil, errf("%w", err)
	}
	notes, verrs := isc.validate()
	for _, e := range verrs {
		errs = append(errs, errf("%w", e))
	}
	if len(errs) > 0 {
		return nil, notes, errors.Join(errs...)
	}
	return &isc, notes, nil
}

// checkFields walks decoded JSON beside the Go type it must fill and reports
// every key the type (for this apiVersion) does not have, with its path.
// Type mismatches are left to json.Unmarshal.
func checkFields(v any, t reflect.Type, path, version string) []error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		var errs []error
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			f, ok := fieldByJSONName(t, k)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: unknown field", p))
				continue
			}
			tag := f.Tag.Get("imageset")
			if tag == "opaque" {
				continue
			}
			if tag != "" && tag != version {
				errs = append(errs, fmt.Errorf("%s: unknown field in mirror.openshift.io/%s (it exists only in mirror.openshift.io/%s)", p, version, tag))
				continue
			}
			errs = append(errs, checkFields(m[k], f.Type, p, version)...)
		}
		return errs
	case reflect.Slice:
		items, ok := v.([]any)
		if !ok {
			return nil
		}
		var errs []error
		for i, it := range items {
			errs = append(errs, checkFields(it, t.Elem(), fmt.Sprintf("%s[%d]", path, i), version)...)
		}
		return errs
	}
	return nil
}

func fieldByJSONName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if n, _, _ := strings.Cut(f.Tag.Get("json"), ","); n == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// targetRE is oc-mirror's pattern for targetCatalog and targetRepo: a
// repository path without host.
var targetRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)

// tagRE is the distribution tag grammar.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// validate checks values, returning notes and every error.
func (c *ImageSetConfiguration) validate() ([]Note, []error) {
	var notes []Note
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	if c.StorageConfig != nil {
		notes = append(notes, Note{"storageConfig", "not used: hcpmirror keeps what it mirrored in the workspace and writes complete cluster resources every run, so no metadata image or directory is needed"})
	}
	if c.ArchiveSize != 0 {
		notes = append(notes, Note{"archiveSize", "not used: disk mode writes an OCI image layout of content-addressed blobs, not tar chunks"})
	}
	m := &c.Mirror
	p := &m.Platform
	if m.Helm != nil {
		bad("mirror.helm", "Helm charts are understood but not implemented by hcpmirror; remove the section and mirror the charts' images as additionalImages")
	}
	if m.Samples != nil {
		bad("mirror.samples", "samples are not implemented (oc-mirror does not implement them either)")
	}
	if p.Graph {
		bad("mirror.platform.graph", "the update graph data image and UpdateService are understood but not implemented by hcpmirror; set graph: false")
	}
	if len(p.Platforms) > 0 {
		bad("mirror.platform.platforms", "filtering multi-architecture payloads by platform is not implemented: a filtered index has a new digest that digest pulls through the IDMS would not find (docs/semantics.md §8.4); use architectures")
	}
	seenArch := map[string]bool{}
	for i, a := range p.Architectures {
		f := fmt.Sprintf("mirror.platform.architectures[%d]", i)
		if !slices.Contains(Architectures, a) {
			bad(f, "%q is not one of %s", a, strings.Join(Architectures, ", "))
		} else if seenArch[a] {
			bad(f, "%q is listed twice", a)
		}
		seenArch[a] = true
	}
	if p.Release != "" {
		if _, err := imageref.Parse(p.Release); err != nil {
			bad("mirror.platform.release", "%v", err)
		}
	}
	seenChan := map[string]bool{}
	for i := range p.Channels {
		ch := &p.Channels[i]
		f := fmt.Sprintf("mirror.platform.channels[%d]", i)
		if ch.Name == "" {
			bad(f+".name", "required")
		}
		switch ch.Type {
		case "", ChannelTypeOCP, ChannelTypeOKD:
		default:
			bad(f+".type", "%q is neither ocp nor okd", ch.Type)
		}
		key := ch.Type + "/" + ch.Name
		if ch.Type == "" {
			key = ChannelTypeOCP + "/" + ch.Name
		}
		if ch.Name != "" && seenChan[key] {
			bad(f+".name", "channel %q is listed twice", ch.Name)
		}
		seenChan[key] = true
		errs = append(errs, checkRange(f, ch.MinVersion, ch.MaxVersion)...)
	}

	seenCat := map[string]bool{}
	for i := range m.Operators {
		op := &m.Operators[i]
		f := fmt.Sprintf("mirror.operators[%d]", i)
		if op.Catalog == "" {
			bad(f+".catalog", "required")
		} else if strings.HasPrefix(op.Catalog, "oci://") {
			bad(f+".catalog", "catalogs in an oci:// layout are not implemented; push the catalog to a registry first")
		} else if _, err := imageref.Parse(op.Catalog); err != nil {
			bad(f+".catalog", "%v", err)
		}
		if op.TargetName != "" {
			if op.TargetCatalog != "" {
				bad(f+".targetName", "deprecated spelling of targetCatalog; give only targetCatalog")
			} else {
				op.TargetCatalog = op.TargetName
				notes = append(notes, Note{f + ".targetName", "deprecated, read as targetCatalog"})
			}
		}
		if op.TargetCatalog != "" && !targetRE.MatchString(op.TargetCatalog) {
			bad(f+".targetCatalog", "%q is not a repository path (lowercase components separated by /, no host, tag or digest)", op.TargetCatalog)
		}
		if op.TargetTag != "" && !tagRE.MatchString(op.TargetTag) {
			bad(f+".targetTag", "%q is not a valid tag", op.TargetTag)
		}
		if op.TargetCatalogSourceTemplate != "" {
			bad(f+".targetCatalogSourceTemplate", "understood but not implemented; remove it to get plain CatalogSources")
		}
		if len(op.Platforms) > 0 {
			bad(f+".platforms", "filtering catalogs by platform is not implemented")
		}
		if c.APIVersion == APIVersionV1Alpha2 && !op.SkipDependencies && len(op.Packages) > 0 {
			notes = append(notes, Note{f + ".skipDependencies", "dependencies of the listed packages are not added (as in oc-mirror v2): list every package you need"})
		}
		id := op.Catalog + "|" + op.TargetCatalog + "|" + op.TargetTag
		if op.Catalog != "" && seenCat[id] {
			bad(f+".catalog", "catalog %q is listed twice with the same target", op.Catalog)
		}
		seenCat[id] = true
		seenPkg := map[string]bool{}
		for j := range op.Packages {
			pk := &op.Packages[j]
			pf := fmt.Sprintf("%s.packages[%d]", f, j)
			if pk.Name == "" {
				bad(pf+".name", "required")
			} else if seenPkg[pk.Name] {
				bad(pf+".name", "package %q is listed twice", pk.Name)
			}
			seenPkg[pk.Name] = true
			if pk.MinBundle != "" {
				bad(pf+".minBundle", "understood but not implemented; use minVersion")
			}
			errs = append(errs, checkRange(pf, pk.MinVersion, pk.MaxVersion)...)
			pkgRange := pk.MinVersion != "" || pk.MaxVersion != ""
			if op.Full && pkgRange {
				bad(pf, "full: true and a version range together")
			}
			seenCh := map[string]bool{}
			for k := range pk.Channels {
				ch := &pk.Channels[k]
				cf := fmt.Sprintf("%s.channels[%d]", pf, k)
				if ch.Name == "" {
					bad(cf+".name", "required")
				} else if seenCh[ch.Name] {
					bad(cf+".name", "channel %q is listed twice", ch.Name)
				}
				seenCh[ch.Name] = true
				if ch.MinBundle != "" {
					bad(cf+".minBundle", "understood but not implemented; use minVersion")
				}
				errs = append(errs, checkRange(cf, ch.MinVersion, ch.MaxVersion)...)
				if pkgRange && (ch.MinVersion != "" || ch.MaxVersion != "") {
					bad(cf, "version range on both the package and its channel; give one")
				}
				if op.Full && (ch.MinVersion != "" || ch.MaxVersion != "") {
					bad(cf, "full: true and a version range together")
				}
			}
		}
	}
	for i, im := range m.AdditionalImages {
		f := fmt.Sprintf("mirror.additionalImages[%d]", i)
		if im.Name == "" {
			bad(f+".name", "required")
		} else if strings.Contains(im.Name, "://") {
			bad(f+".name", "%q: transports (oci://, docker://) are not implemented; give a registry pull spec", im.Name)
		} else if _, err := imageref.Parse(im.Name); err != nil {
			bad(f+".name", "%v", err)
		}
		if im.TargetRepo != "" && !targetRE.MatchString(im.TargetRepo) {
			bad(f+".targetRepo", "%q is not a repository path (lowercase components separated by /, no host, tag or digest)", im.TargetRepo)
		}
		if im.TargetTag != "" && !tagRE.MatchString(im.TargetTag) {
			bad(f+".targetTag", "%q is not a valid tag", im.TargetTag)
		}
		if len(im.Platforms) > 0 {
			bad(f+".platforms", "filtering images by platform is not implemented")
		}
	}
	for i, b := range m.BlockedImages {
		f := fmt.Sprintf("mirror.blockedImages[%d].name", i)
		if b.Name == "" {
			bad(f, "required")
		} else if _, err := regexp.Compile(b.Name); err != nil {
			bad(f, "not a regular expression: %v", err)
		}
	}
	if len(p.Channels) == 0 && p.Release == "" && len(m.Operators) == 0 && len(m.AdditionalImages) == 0 {
		bad("mirror", "nothing to mirror: no platform channels or release, operators or additionalImages")
	}
	if len(p.Channels) == 0 && p.Release == "" && (len(p.Architectures) > 0 || p.KubeVirtContainer) {
		bad("mirror.platform", "architectures or kubeVirtContainer without channels or release")
	}
	return notes, errs
}

// checkRange checks semantic versions and their order.
func checkRange(field, lo, hi string) []error {
	var errs []error
	var lv, hv semver.Version
	var lok, hok bool
	if lo != "" {
		v, err := semver.Parse(lo)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.minVersion: %q is not a semantic version: %v", field, lo, err))
		}
		lv, lok = v, err == nil
	}
	if hi != "" {
		v, err := semver.Parse(hi)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.maxVersion: %q is not a semantic version: %v", field, hi, err))
		}
		hv, hok = v, err == nil
	}
	if lok && hok && lv.GT(hv) {
		errs = append(errs, fmt.Errorf("%s: minVersion %s is above maxVersion %s", field, lo, hi))
	}
	return errs
}
