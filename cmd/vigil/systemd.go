package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// systemd's notification protocol (sd_notify(3)), spoken without
// libsystemd: vigil tells the service manager when it is ready, reloading
// and stopping.

// notify tells systemd of a state change; failing to is no reason to stop
// watching, and is logged.
func notify(state string) {
	if err := notifySystemd(state); err != nil {
		slog.Warn("systemd not notified", "state", state, "error", err)
	}
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, the clock systemd
// compares reload notifications against.
func monotonicUsec() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano() / 1000
}

// notifySystemd sends state to the service manager's notification socket
// ($NOTIFY_SOCKET, a path or an @abstract name), as sd_notify(3) does;
// without the variable it does nothing.
func notifySystemd(state string) error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("systemd notification socket %s: %w", addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	return nil
}
