package delivery

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// crashEnv makes the test binary run crashVictim instead of the tests; its
// value is "memory" or "disk" and the state directory, colon-separated.
const crashEnv = "VIGIL_DELIVERY_CRASH"

func TestMain(m *testing.M) {
	if v := os.Getenv(crashEnv); v != "" {
		where, dir, _ := strings.Cut(v, ":")
		crashVictim(where, dir)
	}
	os.Exit(m.Run())
}

// crashVictim runs an outbox in dir whose receiver takes three requests,
// then fails. With where "disk", every request goes to the spool; with
// "memory", the three delivered and the fourth go through memory, and the
// rest to disk, as the receiver fails. It says "ready" once the requests
// are where they will stay, and waits to be killed.
func crashVictim(where, dir string) {
	cfg, _ := testConfig(dir)
	if where == "disk" {
		cfg.MemoryBytes = 1
	}
	r := newReceiver()
	r.failAfter = 3
	o, err := Open(cfg, r)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	waitFor := func(ok func(Stats) bool) {
		for !ok(o.Stats()) {
			time.Sleep(time.Millisecond)
		}
	}
	putRange(o, 0, 4)
	waitFor(func(st Stats) bool { return st.Delivered.Requests == 3 && st.Failing })
	putRange(o, 4, 10)
	fmt.Println("ready")
	select {}
}

// TestSIGKILL kills a process running an outbox whose receiver failed:
// the next run sends what was on disk, none of what was delivered, and
// the request that was only in memory is the one lost.
func TestSIGKILL(t *testing.T) {
	for _, tt := range []struct {
		where  string
		replay []string
	}{
		{where: "disk", replay: bodies(3, 10)},
		{where: "memory", replay: bodies(4, 10)},
	} {
		t.Run(tt.where, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashEnv+"="+tt.where+":"+dir)
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			line, err := bufio.NewReader(out).ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "ready\n", line)
			require.NoError(t, cmd.Process.Kill())
			require.Error(t, cmd.Wait(), "killed")

			cfg, _ := testConfig(dir)
			r := newReceiver()
			o := mustOpen(t, cfg, r)
			flush(t, o)
			require.Equal(t, tt.replay, r.received())
		})
	}
}
