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

// PodUID finds the Kubernetes pod a cgroup path belongs to, as the kubelet
// names pod cgroups:
//
//	cgroupfs driver   /kubepods/besteffort/pod<uid>/<container>, /kubepods/pod<uid>/...
//	systemd driver    /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/...
//
// where the systemd driver writes the uid's dashes as underscores. It
// returns the uid with dashes, as the API server gives it (what the
// Collector's k8sattributes processor associates by), or "" outside a pod.
func PodUID(cgroupPath string) string {
	if !strings.Contains(cgroupPath, "kubepods") {
		return ""
	}
	for part := range strings.SplitSeq(cgroupPath, "/") {
		name := strings.TrimSuffix(part, ".slice")
		i := strings.LastIndex(name, "pod")
		if i < 0 {
			continue
		}
		if uid := strings.ReplaceAll(name[i+len("pod"):], "_", "-"); isUUID(uid) {
			return uid
		}
	}
	return ""
}

// isUUID says s is a UUID in its textual form: 8-4-4-4-12 hex digits.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}
