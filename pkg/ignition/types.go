package ignition

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Version is the Ignition specification version of the configs built here.
// 3.2.0 is read by every RHCOS that OpenShift 4.8 and later boots.
const Version = "3.2.0"

// Config is an Ignition v3 config, the subset hcpmirror writes and reads.
type Config struct {
	Ignition Ignition `json:"ignition"`
	Passwd   *Passwd  `json:"passwd,omitempty"`
	Storage  *Storage `json:"storage,omitempty"`
}

// Ignition is the config's own metadata.
type Ignition struct {
	// Version is the specification version, "3.2.0" for configs built here.
	Version string `json:"version"`
}

// Passwd lists users to create or amend.
type Passwd struct {
	Users []User `json:"users,omitempty"`
}

// User is one account; MachineConfigs use it for the core user's SSH keys.
type User struct {
	Name              string   `json:"name"`
	SSHAuthorizedKeys []string `json:"sshAuthorizedKeys,omitempty"`
}

// Storage lists files to write.
type Storage struct {
	Files []File `json:"files,omitempty"`
}

// File is one file to write. Paths are absolute; Mode is the permission bits
// as a decimal number in JSON (0644 is 420), as Ignition has it.
type File struct {
	Path      string       `json:"path"`
	Mode      *int         `json:"mode,omitempty"`
	Overwrite *bool        `json:"overwrite,omitempty"`
	Contents  FileContents `json:"contents"`
}

// FileContents says where a file's bytes come from. Configs built here only
// use data: URLs, so a node needs no network to read them.
type FileContents struct {
	Source string `json:"source,omitempty"`
}

// DataURL encodes b as the base64 data: URL Ignition reads.
func DataURL(b []byte) string {
	return "data:;base64," + base64.StdEncoding.EncodeToString(b)
}

// DecodeDataURL returns the bytes of a data: URL, base64 or percent-encoded
// (the two spellings MachineConfigs use). Other schemes are an error: the
// server never fetches remote contents on a node's behalf.
func DecodeDataURL(u string) ([]byte, error) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return nil, fmt.Errorf("contents source %.40q: only data: URLs are supported", u)
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, fmt.Errorf("data URL without a comma")
	}
	if strings.HasSuffix(meta, ";base64") {
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, fmt.Errorf("data URL: %w", err)
		}
		return b, nil
	}
	s, err := url.PathUnescape(data)
	if err != nil {
		return nil, fmt.Errorf("data URL: %w", err)
	}
	return []byte(s), nil
}

// File returns the file of c at path, or nil.
func (c *Config) File(path string) *File {
	if c.Storage == nil {
		return nil
	}
	for i := range c.Storage.Files {
		if c.Storage.Files[i].Path == path {
			return &c.Storage.Files[i]
		}
	}
	return nil
}

// SetFile writes data at path with mode, replacing a file already listed
// there (the later part wins, as MachineConfigs merge), else appending.
func (c *Config) SetFile(path string, mode int, data []byte) {
	overwrite := true
	f := File{Path: path, Mode: &mode, Overwrite: &overwrite, Contents: FileContents{Source: DataURL(data)}}
	c.setFile(f)
}

func (c *Config) setFile(f File) {
	if c.Storage == nil {
		c.Storage = &Storage{}
	}
	if old := c.File(f.Path); old != nil {
		*old = f
		return
	}
	c.Storage.Files = append(c.Storage.Files, f)
}

// addUser merges u's keys into the user of the same name, or adds it.
func (c *Config) addUser(u User) {
	if c.Passwd == nil {
		c.Passwd = &Passwd{}
	}
	for i := range c.Passwd.Users {
		if c.Passwd.Users[i].Name == u.Name {
			have := c.Passwd.Users[i].SSHAuthorizedKeys
			for _, k := range u.SSHAuthorizedKeys {
				if !slices.Contains(have, k) {
					have = append(have, k)
				}
			}
			c.Passwd.Users[i].SSHAuthorizedKeys = have
			return
		}
	}
	c.Passwd.Users = append(c.Passwd.Users, u)
}
