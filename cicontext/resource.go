package cicontext

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/semconv"
)

// CIDetector returns a resource detector for the CI job vigil itself runs
// in, as a step of it (vigil run -- make test): the attributes Attributes
// gives for vigil's own environment, read with getenv (os.Getenv) and
// redacted by r as those of every process are. Outside CI it detects
// nothing.
func CIDetector(getenv func(name string) string, r *redact.Redactor) resource.Detector {
	return ciDetector{env: funcEnv(getenv), redactor: r}
}

type ciDetector struct {
	env      funcEnv
	redactor *redact.Redactor
}

// Detect implements resource.Detector.
func (d ciDetector) Detect(context.Context) (*resource.Resource, error) {
	attrs := appendAttributes(nil, d.env, d.redactor)
	if len(attrs) == 0 {
		return resource.Empty(), nil
	}
	return resource.NewWithAttributes(semconv.SchemaURL, attrs...), nil
}

// ContainerDetector returns a resource detector for the container vigil
// itself runs in: container.id, found in procSelf, the /proc/self directory
// (os.DirFS("/proc/self")). On the host it detects nothing.
//
// It asks fromCgroup, when not nil, for the container each cgroup path in
// procSelf/cgroup belongs to ("" for none): that works where vigil sees its
// full cgroup path (cgroup v1, or the host's cgroup namespace, as a
// Kubernetes DaemonSet usually runs). Otherwise, in a private cgroup
// namespace where the path is "/", it looks where Docker and Podman mount
// the container's /etc/hostname from: .../containers/<id>/hostname and
// .../overlay-containers/<id>/userdata/hostname, in procSelf/mountinfo.
// containerd and CRI-O mount it from the pod's sandbox, whose id is not the
// container's, so they are found by the cgroup path only.
func ContainerDetector(procSelf fs.FS, fromCgroup func(cgroupPath string) string) resource.Detector {
	return containerDetector{proc: procSelf, fromCgroup: fromCgroup}
}

type containerDetector struct {
	proc       fs.FS
	fromCgroup func(string) string
}

// Detect implements resource.Detector.
func (d containerDetector) Detect(context.Context) (*resource.Resource, error) {
	var id string
	var err error
	if d.fromCgroup != nil {
		id, err = d.scan("cgroup", d.cgroupLine)
	}
	if id == "" && err == nil {
		id, err = d.scan("mountinfo", hostnameMountFinder())
	}
	if err != nil || id == "" {
		return resource.Empty(), err
	}
	return resource.NewWithAttributes(semconv.SchemaURL, semconv.ContainerIDKey.String(id)), nil
}

// cgroupLine reads a line of /proc/self/cgroup,
// hierarchy-id:controllers:path.
func (d containerDetector) cgroupLine(line string) string {
	parts := strings.SplitN(line, ":", 3)
	if len(parts) != 3 {
		return ""
	}
	return d.fromCgroup(parts[2])
}

// hostnameMountFinder returns a reader of /proc/self/mountinfo lines that
// finds the container whose directory /etc/hostname is mounted from. The
// fields are: mount id, parent id, major:minor, root (the source path
// within its filesystem), mount point, ...
func hostnameMountFinder() func(line string) string {
	re := regexp.MustCompile(`/(?:[^/]*-)?containers/([0-9a-f]{64})/`)
	return func(line string) string {
		fields := strings.Fields(line)
		if len(fields) < 5 || fields[4] != "/etc/hostname" {
			return ""
		}
		if m := re.FindStringSubmatch(fields[3]); m != nil {
			return m[1]
		}
		return ""
	}
}

// scan returns the first id find returns for a line of the file name in
// d.proc; a missing file finds nothing.
func (d containerDetector) scan(name string, find func(line string) string) (string, error) {
	f, err := d.proc.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("container id: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if id := find(s.Text()); id != "" {
			return id, nil
		}
	}
	if err := s.Err(); err != nil {
		return "", fmt.Errorf("container id: read %s: %w", name, err)
	}
	return "", nil
}
