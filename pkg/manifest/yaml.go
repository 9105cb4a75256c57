package manifest

import (
	"bytes"
	"fmt"
	"strconv"

	yamlv3 "go.yaml.in/yaml/v3"
)

// document is one YAML document of a file.
type document struct {
	data  []byte
	index int // 1-based document number
	start int // 1-based line of data's first byte in the file
	line  int // 1-based line of the "---" marker, or else of the first content
}

// splitYAML cuts a YAML stream into documents at "---" lines, counting
// documents the way a YAML parser does: "---" always starts a document, even
// an empty one, while text before the first "---" (or after a "..." end
// marker) is a document only if it holds more than comments, blank lines and
// directives. Each document keeps its "---" line, so that content written on
// that line ("--- |") still parses.
func splitYAML(data []byte) []document {
	var docs []document
	var cur bytes.Buffer
	curStart, markLine, contentLine := 1, 0, 0
	flush := func() {
		if markLine > 0 || contentLine > 0 {
			line := markLine
			if line == 0 {
				line = contentLine
			}
			docs = append(docs, document{data: bytes.Clone(cur.Bytes()), index: len(docs) + 1, start: curStart, line: line})
			cur.Reset()
		}
		// Otherwise the text (comments, directives) stays in front of the
		// next document.
		markLine, contentLine = 0, 0
	}

	line := 1
	for len(data) > 0 {
		n := bytes.IndexByte(data, '\n')
		var l []byte
		if n < 0 {
			l, data = data, nil
		} else {
			l, data = data[:n+1], data[n+1:]
		}
		switch {
		case isMarker(l, "---"):
			flush()
			if cur.Len() == 0 {
				curStart = line
			}
			markLine = line
			cur.Write(l)
		case isMarker(l, "..."):
			flush()
			cur.Reset()
			curStart = line + 1
		default:
			if cur.Len() == 0 {
				curStart = line
			}
			if contentLine == 0 && hasContent(l) {
				contentLine = line
			}
			cur.Write(l)
		}
		line++
	}
	flush()
	return docs
}

// isMarker reports whether a line is the marker ("---" or "...") alone or
// followed by white space (and, for "---", possibly content).
func isMarker(line []byte, marker string) bool {
	line = bytes.TrimRight(line, "\r\n")
	if !bytes.HasPrefix(line, []byte(marker)) {
		return false
	}
	rest := line[len(marker):]
	if len(rest) == 0 {
		return true
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		return false
	}
	if marker == "..." {
		r := bytes.TrimSpace(rest)
		return len(r) == 0 || r[0] == '#'
	}
	return true
}

// hasContent reports whether YAML text holds anything but blank lines,
// comments and directives.
func hasContent(text []byte) bool {
	for _, l := range bytes.Split(text, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' && l[0] != '%' {
			return true
		}
	}
	return false
}

// duplicateKeys finds the keys repeated within one mapping of a YAML
// document, as errors in the form sigs.k8s.io/json uses for JSON input:
// duplicate field "spec.imageDigestMirrors[0].source" (with the line of the
// repetition). sigs.k8s.io/yaml reports only a line, not the field path.
func duplicateKeys(doc []byte) []error {
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(doc, &root); err != nil {
		return nil
	}
	var errs []error
	var walk func(n *yamlv3.Node, path string)
	walk = func(n *yamlv3.Node, path string) {
		switch n.Kind {
		case yamlv3.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yamlv3.SequenceNode:
			for i, c := range n.Content {
				walk(c, path+"["+strconv.Itoa(i)+"]")
			}
		case yamlv3.MappingNode:
			seen := map[string]bool{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Kind != yamlv3.ScalarNode || k.Tag == "!!merge" {
					continue
				}
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if seen[k.Value] {
					errs = append(errs, fmt.Errorf("duplicate field %s (line %d)", strconv.Quote(p), k.Line))
				}
				seen[k.Value] = true
				walk(v, p)
			}
		}
		// Aliases are not followed: the anchored node is checked where it is
		// defined, and following them could loop.
	}
	walk(&root, "")
	return errs
}
