package sensor

import "strings"

// ContainerID finds the container a cgroup path belongs to, as the
// container runtimes name their cgroups:
//
//	docker (cgroupfs)         /docker/<id>
//	docker (systemd)          /system.slice/docker-<id>.scope
//	containerd, Kubernetes    /kubepods/besteffort/pod<uid>/<id>
//	                          /kubepods.slice/.../cri-containerd-<id>.scope
//	cri-o                     /kubepods.slice/.../crio-<id>.scope
//	podman                    /machine.slice/libpod-<id>.scope, /libpod_parent/libpod-<id>
//
// where <id> is 64 hex digits. The deepest matching component wins; the
// result is empty for a process on the host.
func ContainerID(cgroupPath string) string {
	parts := strings.Split(cgroupPath, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		name := strings.TrimSuffix(parts[i], ".scope")
		// conmon, cri-o's monitor, sits beside the container, not in it.
		if strings.HasPrefix(name, "crio-conmon-") {
			continue
		}
		for _, prefix := range []string{"docker-", "cri-containerd-", "crio-", "libpod-", "containerd-"} {
			name = strings.TrimPrefix(name, prefix)
		}
		if isContainerID(name) {
			return name
		}
	}
	return ""
}

func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
