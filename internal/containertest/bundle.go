package containertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The OCI bundle of a container: a root filesystem of busybox and its
// applets, and runc's default config.json edited to run the caller's command.

// makeRootfs fills dir with /bin/busybox and one /bin symlink per applet.
func makeRootfs(dir string) error {
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return fmt.Errorf("make rootfs: %w", err)
	}
	if err := copyFile(BusyboxPath, filepath.Join(bin, "busybox"), 0o755); err != nil {
		return fmt.Errorf("make rootfs: %w", err)
	}
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return fmt.Errorf("make rootfs: list busybox applets: %w", err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(bin, applet)); err != nil {
			return fmt.Errorf("make rootfs: link applet: %w", err)
		}
	}
	return nil
}

// copyFile copies the regular file src to a new file dst with the given mode.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return nil
}

// writeConfig has runc write its default config.json into bundle and then
// edits it to run args in the container id.
func writeConfig(runc, bundle, id string, opts Options, args []string) error {
	if out, err := exec.Command(runc, "spec", "--rootless=false", "--bundle", bundle).CombinedOutput(); err != nil {
		return fmt.Errorf("runc spec: %w: %s", err, bytes.TrimSpace(out))
	}
	path := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read generated config: %w", err)
	}
	// A generic map keeps every field runc wrote, known to this code or not.
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("parse generated config %s: %w", path, err)
	}
	if err := editSpec(spec, id, opts, args); err != nil {
		return fmt.Errorf("edit config %s: %w", path, err)
	}
	b, err = json.MarshalIndent(spec, "", "\t")
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// editSpec changes runc's default spec to run args without a terminal in a
// writable rootfs (or opts.RootFS, read-only), in the cgroup
// CgroupsPath(id), with the short id as its host name as Docker does, and
// with opts' capabilities and mounts. It drops a cgroup namespace if runc's
// default has one, so that the container sees its full cgroup path.
func editSpec(spec map[string]any, id string, opts Options, args []string) error {
	process, err := object(spec, "process")
	if err != nil {
		return err
	}
	process["args"] = args
	process["terminal"] = false
	process["cwd"] = "/"
	if opts.Capabilities != nil {
		process["capabilities"] = map[string]any{
			"bounding": opts.Capabilities, "effective": opts.Capabilities, "permitted": opts.Capabilities,
		}
	}

	root, err := object(spec, "root")
	if err != nil {
		return err
	}
	root["path"] = "rootfs"
	root["readonly"] = false
	if opts.RootFS != "" {
		root["path"], root["readonly"] = opts.RootFS, true
	}
	mounts, ok := spec["mounts"].([]any)
	if !ok {
		return fmt.Errorf("mounts is %T, not a list", spec["mounts"])
	}
	for _, m := range opts.Mounts {
		options := []string{"rbind", "rw"}
		if m.ReadOnly {
			options[1] = "ro"
		}
		mounts = append(mounts, map[string]any{"destination": m.Destination, "type": "bind", "source": m.Source, "options": options})
	}
	spec["mounts"] = mounts

	spec["hostname"] = id[:min(12, len(id))]

	linux, err := object(spec, "linux")
	if err != nil {
		return err
	}
	linux["cgroupsPath"] = CgroupsPath(id)
	namespaces, ok := linux["namespaces"].([]any)
	if !ok {
		return fmt.Errorf("linux.namespaces is %T, not a list", linux["namespaces"])
	}
	kept := namespaces[:0]
	for _, ns := range namespaces {
		if m, ok := ns.(map[string]any); ok && m["type"] == "cgroup" {
			continue
		}
		kept = append(kept, ns)
	}
	linux["namespaces"] = kept
	return nil
}

// object returns the JSON object under key in m.
func object(m map[string]any, key string) (map[string]any, error) {
	v, ok := m[key].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%q is %T, not an object", key, m[key])
	}
	return v, nil
}
