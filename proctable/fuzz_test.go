package proctable

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/internal/execenv"
)

// A process names its trace context in its own environment, and its
// command name in /proc: both are written by whoever runs there.

// traceparentForm is W3C Trace Context's traceparent: version, trace id,
// parent (span) id, flags, lower-case hex; a version after 00 may append
// fields.
var traceparentForm = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$`)

// FuzzTraceContext: a trace context is taken only when valid W3C trace
// context, is taken whenever it is a valid version 00 one, and reads back
// as itself once written.
func FuzzTraceContext(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
	f.Add("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", "")
	f.Add("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03", "a@b=c , ,x=y")
	f.Add("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-09-what-comes-next", "k=v")
	f.Add("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "")
	f.Add("00-00000000000000000000000000000000-00f067aa0ba902b7-01", "")
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "")
	f.Add("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "")
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", "=,\x00")
	f.Fuzz(func(t *testing.T, traceparent, tracestate string) {
		env := map[string]string{execenv.TraceParent: traceparent, execenv.TraceState: tracestate}
		sc, named := envTraceContext(env)
		require.Equal(t, traceparent != "", named)

		m := traceparentForm.FindStringSubmatch(traceparent)
		zeroTrace, zeroSpan := m != nil && m[2] == strings.Repeat("0", 32), m != nil && m[3] == strings.Repeat("0", 16)
		if m != nil && m[1] == "00" && m[5] == "" && !zeroTrace && !zeroSpan && m[4] <= "03" {
			require.True(t, sc.IsValid(), "a valid version 00 traceparent is taken")
		}
		if !sc.IsValid() {
			require.Equal(t, trace.SpanContext{}, sc, "nothing of what is refused is kept")
			return
		}
		require.NotNil(t, m, "taken, yet not of the traceparent form")
		require.NotEqual(t, "ff", m[1], "version ff is forbidden")
		require.True(t, m[1] != "00" || m[5] == "", "version 00 has four fields")
		require.False(t, zeroTrace || zeroSpan, "an all-zero id is not valid")
		require.Equal(t, m[2], sc.TraceID().String())
		require.Equal(t, m[3], sc.SpanID().String())
		require.True(t, sc.IsRemote())

		// Written as vigil passes it on (version 00), it reads back the same.
		out := fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags())
		require.Regexp(t, traceparentForm, out)
		back, named := envTraceContext(map[string]string{execenv.TraceParent: out, execenv.TraceState: sc.TraceState().String()})
		require.True(t, named)
		require.True(t, back.Equal(sc), "%s (%s) read back as %s-%s (%s)", out, sc.TraceState(), back.TraceID(), back.SpanID(), back.TraceState())
	})
}

// FuzzParseStat: whatever a process names itself, its parent and start
// time are read from the fields after its name.
func FuzzParseStat(f *testing.F) {
	f.Add("bash", uint32(1), uint64(987654))
	f.Add("a) (b ) c", uint32(17), uint64(0))
	f.Add(") 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 (", uint32(4242), uint64(1<<63))
	f.Add("\n\x00\xff", uint32(0), uint64(1))
	f.Fuzz(func(t *testing.T, comm string, ppid uint32, start uint64) {
		stat := fmt.Sprintf("4242 (%s) S %d 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n", comm, ppid, start)
		gotPPID, gotStart, err := parseStat([]byte(stat))
		require.NoError(t, err)
		require.Equal(t, ppid, gotPPID)
		require.Equal(t, start, gotStart)

		// Cut anywhere, it is refused or read, never a panic.
		_, _, _ = parseStat([]byte(stat[:len(comm)%len(stat)]))
	})
}
