package redact

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// Made-up secrets of the published formats. They are assembled at run time
// so that secret scanners do not take this file for a leak.
var (
	ghToken     = "ghp_" + strings.Repeat("aB3d", 9)
	ghPAT       = "github_pat_" + strings.Repeat("11AbCdEfGh", 8) + "xy"
	glToken     = "glpat-" + strings.Repeat("Ab3-", 5)
	slackToken  = "xoxb-" + "123456789012-1234567890123-" + strings.Repeat("aB", 12)
	stripeKey   = "sk_" + "live_" + strings.Repeat("4eC39HqLyjWDarjtT1zdp7dc", 1)
	googleKey   = "AIza" + "SyA-" + strings.Repeat("x1Y2z3", 5) + "abcd"
	npmToken    = "npm_" + strings.Repeat("a1B2c3", 6)
	pypiToken   = "pypi-" + "AgEIcHlwaS5vcmc" + strings.Repeat("Cj", 30)
	vaultToken  = "hvs." + strings.Repeat("CAESIJ", 5)
	openAIKey   = "sk-" + "proj-" + strings.Repeat("Ab1_", 8)
	claudeKey   = "sk-" + "ant-api03-" + strings.Repeat("Xy9-", 10)
	awsKeyID    = "AKIA" + "IOSFODNN7EXAMPLE"
	awsSTSKeyID = "ASIA" + "Y34FZKBOKMUTVV7A"
	awsSecret   = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
	jwt         = "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0." + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	slackHook   = "T00000000/B00000000/" + strings.Repeat("XXXXXXXX", 3)
)

// newDefault is a Redactor with the default rules.
func newDefault(t testing.TB) *Redactor {
	t.Helper()
	r, err := New(Default())
	require.NoError(t, err)
	return r
}

// TestDefaultRedacts gives each default rule a command line that holds a
// secret: the secret must be gone, the parts around it must stay.
func TestDefaultRedacts(t *testing.T) {
	tests := []struct {
		rule   string
		exe    string // default: /usr/bin/ + args[0]
		args   []string
		secret string   // must appear in no output element
		keep   []string // must each appear in the output
	}{
		{"secret-flags", "", []string{"app", "--password=hunter2"}, "hunter2", []string{"--password="}},
		{"secret-flags", "", []string{"app", "--password", "hunter2", "-v"}, "hunter2", []string{"--password", "-v"}},
		{"secret-flags", "", []string{"app", "--PASSWORD=hunter2"}, "hunter2", []string{"--PASSWORD="}},
		{"secret-flags", "", []string{"java", "-password", "hunter2"}, "hunter2", []string{"-password"}},
		{"secret-flags", "", []string{"app", "--passwd=hunter2"}, "hunter2", nil},
		{"secret-flags", "", []string{"x11vnc", "--pass", "hunter2"}, "hunter2", nil},
		{"secret-flags", "", []string{"app", "--secret", "hunter2"}, "hunter2", nil},
		{"secret-flags", "", []string{"app", "--token", "hunter2"}, "hunter2", nil},
		{"secret-flags", "", []string{"app", "--api-key=hunter2"}, "hunter2", []string{"--api-key="}},
		{"secret-flags", "", []string{"app", "--api_key", "hunter2"}, "hunter2", nil},
		{"secret-flags", "", []string{"app", "--apikey", "hunter2"}, "hunter2", nil},
		{"secret-flags", "", []string{"app", "--access-token", "hunter2"}, "hunter2", nil},
		{"secret-flags", "", []string{"app", "--client-secret=hunter2"}, "hunter2", nil},
		{"secret-flags", "", []string{"wget", "--ftp-password=hunter2", "ftp://h/f"}, "hunter2", []string{"ftp://h/f"}},
		{"secret-flags", "", []string{"app", "--DB_Password", "hunter2"}, "hunter2", nil},
		{"secret-flags", "", []string{"app", "--passphrase=hunter2"}, "hunter2", nil},
		{"secret-flags", "", []string{"curl", "--oauth2-bearer", "hunter2", "https://api"}, "hunter2", nil},
		{"secret-flags", "", []string{"sh", "-c", "deploy --token hunter2 && echo ok"}, "hunter2", []string{"deploy --token ", " && echo ok"}},
		{"secret-flags", "", []string{"sh", "-c", `deploy --token "hunter2 two" now`}, "hunter2 two", []string{"now"}},
		{"mysql-password", "", []string{"mysql", "-uroot", "-phunter2", "shop"}, "hunter2", []string{"-uroot", "-p", "shop"}},
		{"mysql-password", "", []string{"mysqldump", "-phunter2", "shop"}, "hunter2", nil},
		{"mysql-password", "", []string{"mysqladmin", "-u", "root", "-phunter2", "ping"}, "hunter2", nil},
		{"mysql-password", "/usr/bin/mariadb", []string{"mysql", "-phunter2"}, "hunter2", nil},
		{"mysql-password", "/usr/bin/sudo", []string{"sudo", "mysql", "-phunter2"}, "hunter2", nil},
		{"mysql-password", "/usr/bin/docker", []string{"docker", "exec", "db", "mysql", "-uroot", "-phunter2"}, "hunter2", nil},
		{"mysql-password", "/bin/sh", []string{"sh", "-c", "mysqladmin ping -uroot -phunter2"}, "hunter2", []string{"mysqladmin ping -uroot -p"}},
		{"sshpass-password", "", []string{"sshpass", "-p", "hunter2", "ssh", "host"}, "hunter2", []string{"ssh", "host"}},
		{"sshpass-password", "", []string{"sshpass", "-phunter2", "ssh", "host"}, "hunter2", nil},
		{"login-password", "", []string{"docker", "login", "-u", "ci", "-p", "hunter2", "registry.example.com"}, "hunter2", []string{"ci", "registry.example.com"}},
		{"login-password", "", []string{"docker", "--config", "/tmp/c", "login", "-phunter2", "r.example.com"}, "hunter2", []string{"-p", "r.example.com"}},
		{"login-password", "/usr/bin/podman", []string{"podman", "login", "-p", "hunter2", "quay.io"}, "hunter2", []string{"quay.io"}},
		{"login-password", "", []string{"helm", "registry", "login", "r.example.com", "-u", "ci", "-p", "hunter2"}, "hunter2", []string{"r.example.com"}},
		{"login-password", "", []string{"az", "login", "--service-principal", "-u", "app", "-p", "hunter2", "--tenant", "t"}, "hunter2", []string{"app", "t"}},
		{"login-password", "", []string{"az", "acr", "login", "-n", "reg", "-u", "app", "-p", "hunter2"}, "hunter2", nil},
		{"login-password", "", []string{"sh", "-c", "echo start; docker login -u ci -p hunter2 ghcr.io && docker push x"}, "hunter2", []string{"docker push x"}},
		{"redis-cli-password", "", []string{"redis-cli", "-a", "hunter2", "ping"}, "hunter2", []string{"ping"}},
		{"mongo-password", "", []string{"mongosh", "-u", "admin", "-p", "hunter2"}, "hunter2", []string{"admin"}},
		{"sqlcmd-password", "", []string{"sqlcmd", "-S", "db", "-U", "sa", "-P", "hunter2"}, "hunter2", []string{"sa"}},
		{"curl-user", "", []string{"curl", "-u", "bob:hunter2", "https://h"}, "hunter2", []string{"bob:", "https://h"}},
		{"curl-user", "", []string{"curl", "--user=bob:hunter2", "https://h"}, "hunter2", []string{"--user=bob:"}},
		{"curl-user", "", []string{"curl", "-ubob:hunter2", "https://h"}, "hunter2", []string{"-ubob:"}},
		{"aws-configure-set", "", []string{"aws", "configure", "set", "aws_secret_access_key", awsSecret}, awsSecret, []string{"aws_secret_access_key"}},
		{"url-userinfo", "", []string{"git", "clone", "https://bob:hunter2@example.com/r.git"}, "hunter2", []string{"https://bob:", "@example.com/r.git"}},
		{"url-userinfo", "", []string{"psql", "postgres://app:hunter2@db:5432/app"}, "hunter2", []string{"app:", "@db:5432/app"}},
		{"url-userinfo", "", []string{"redis-cli", "-u", "redis://:hunter2@cache:6379"}, "hunter2", []string{"@cache:6379"}},
		{"url-userinfo", "", []string{"pip", "install", "--index-url", "https://u:hunter2@pypi.corp/simple", "x"}, "hunter2", []string{"@pypi.corp/simple"}},
		{"authorization-header", "", []string{"curl", "-H", "Authorization: Bearer hunter2", "https://h"}, "hunter2", []string{"Authorization: Bearer "}},
		{"authorization-header", "", []string{"curl", "-H", "authorization:Basic aHVudGVyMg==", "https://h"}, "aHVudGVyMg==", []string{"Basic"}},
		{"authorization-header", "", []string{"curl", "-H", "Proxy-Authorization: hunter2"}, "hunter2", nil},
		{"authorization-header", "", []string{"sh", "-c", `curl -sf -H "Authorization: token hunter2" https://api`}, "hunter2", []string{"https://api"}},
		{"authorization-header", "", []string{"git", "-c", "http.extraHeader=AUTHORIZATION: basic hunter2", "fetch"}, "hunter2", []string{"fetch"}},
		{"secret-header", "", []string{"curl", "-H", "X-Api-Key: hunter2"}, "hunter2", []string{"X-Api-Key: "}},
		{"secret-header", "", []string{"curl", "-H", "X-Vault-Token:hunter2"}, "hunter2", nil},
		{"secret-header", "", []string{"curl", "--header", "PRIVATE-TOKEN: hunter2"}, "hunter2", nil},
		{"cookie-header", "", []string{"curl", "-H", "Cookie: session=hunter2; theme=dark"}, "hunter2", []string{"Cookie: "}},
		{"secret-assignment", "", []string{"env", "DB_PASSWORD=hunter2", "app"}, "hunter2", []string{"DB_PASSWORD=", "app"}},
		{"secret-assignment", "", []string{"docker", "run", "-e", "MYSQL_ROOT_PASSWORD=hunter2", "mysql:8"}, "hunter2", []string{"mysql:8"}},
		{"secret-assignment", "", []string{"sh", "-c", "export GITHUB_TOKEN=hunter2; make"}, "hunter2", []string{"; make"}},
		{"secret-assignment", "", []string{"psql", "host=db user=app password=hunter2"}, "hunter2", []string{"host=db user=app password="}},
		{"secret-assignment", "", []string{"app", `{"token": "hunter2"}`}, "hunter2", []string{`"token"`}},
		{"secret-assignment", "", []string{"env", "AWS_SECRET_ACCESS_KEY=" + awsSecret}, awsSecret, nil},
		{"secret-assignment", "", []string{"sh", "-c", "printf 'aws_secret_access_key = " + awsSecret + "'"}, awsSecret, nil},
		{"secret-assignment", "", []string{"env", "MYSQL_PWD=hunter2", "mysql"}, "hunter2", nil},
		{"secret-assignment", "", []string{"make", "API_KEY=hunter2"}, "hunter2", nil},
		{"secret-assignment", "", []string{"app", "Password=hunter2;Server=db"}, "hunter2", []string{"Server=db"}},
		{"connection-string-password", "", []string{"app", "Server=db;User Id=sa;Password=hunter 2;Encrypt=true"}, "hunter 2", []string{"User Id=sa", "Encrypt=true"}},
		{"connection-string-password", "", []string{"app", "Driver={ODBC};Uid=sa;Pwd=hunter2"}, "hunter2", []string{"Uid=sa"}},
		{"openssl-pass", "", []string{"openssl", "enc", "-aes256", "-pass", "pass:hunter2"}, "hunter2", nil},
		{"openssl-pass", "", []string{"openssl", "pkcs12", "-passin", "pass:hunter2"}, "hunter2", []string{"pass:"}},
		{"aws-access-key-id", "", []string{"env", "AWS_ACCESS_KEY_ID=" + awsKeyID}, awsKeyID, []string{"AWS_ACCESS_KEY_ID="}},
		{"aws-access-key-id", "", []string{"app", "key " + awsSTSKeyID}, awsSTSKeyID, nil},
		{"github-token", "", []string{"gh", "auth", "login", "--with-token", ghToken}, ghToken, nil},
		{"github-token", "", []string{"app", "x" + " " + ghPAT}, ghPAT, nil},
		{"github-token", "", []string{"git", "clone", "https://" + ghToken + "@github.com/o/r"}, ghToken, []string{"@github.com/o/r"}},
		{"gitlab-token", "", []string{"app", glToken}, glToken, nil},
		{"slack-token", "", []string{"app", slackToken}, slackToken, nil},
		{"slack-webhook", "", []string{"curl", "https://hooks.slack.com/services/" + slackHook}, slackHook, []string{"https://hooks.slack.com/services/"}},
		{"stripe-key", "", []string{"app", stripeKey}, stripeKey, nil},
		{"google-api-key", "", []string{"app", "https://maps/api?key=" + googleKey}, googleKey, []string{"https://maps/api?key="}},
		{"npm-token", "", []string{"app", npmToken}, npmToken, nil},
		{"pypi-token", "", []string{"twine", "upload", "-p", pypiToken}, pypiToken, nil},
		{"vault-token", "", []string{"app", vaultToken}, vaultToken, nil},
		{"ai-api-key", "", []string{"app", openAIKey}, openAIKey, nil},
		{"ai-api-key", "", []string{"app", claudeKey}, claudeKey, nil},
		{"private-key", "", []string{"sh", "-c", "echo '-----BEGIN RSA PRIVATE KEY-----\nMIIEhunter2\n-----END RSA PRIVATE KEY-----' > k"}, "MIIEhunter2", []string{"-----BEGIN RSA PRIVATE KEY-----", "-----END", "> k"}},
		{"private-key", "", []string{"app", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk"}, "b3BlbnNzaC1rZXk", nil},
		{"jwt", "", []string{"curl", "-b", "jwt=" + jwt}, jwt, []string{"jwt="}},
		{"ldap-password", "", []string{"ldapsearch", "-x", "-D", "user@example.test", "-w", "s3CurePssw0rD!", "-b", "CN=Users,DC=example,DC=test"}, "s3CurePssw0rD!", []string{"user@example.test", "-w", "CN=Users"}},
		{"ldap-password", "", []string{"ldapadd", "-H", "ldap://example.test:389", "-x", "-D", "admin@example.test", "-wHunter2!", "-f", "tempadmin.ldif"}, "Hunter2!", []string{"-w", "tempadmin.ldif"}},
		{"ldap-password", "", []string{"sh", "-c", "ldapmodify -x -D cn=admin -w 'hunter 2' -f change.ldif"}, "hunter 2", []string{"-f change.ldif"}},
		{"ldappasswd-password", "", []string{"ldappasswd", "-x", "-D", "uid=bob", "-w", "old1", "-a", "old1", "-s", "hunter2"}, "hunter2", []string{"uid=bob"}},
		{"ad-tool-password", "", []string{"ldapdomaindump", "-u", `domain\user`, "-p", "hunter2", "127.0.0.1", "-o", "/tmp/T1087"}, "hunter2", []string{`domain\user`, "127.0.0.1", "/tmp/T1087"}},
		{"ad-tool-password", "/usr/bin/python3", []string{"/usr/bin/python3", "/usr/local/bin/bloodhound-python", "-d", "corp.local", "-u", "svc", "-p", "hunter2", "-c", "All"}, "hunter2", []string{"corp.local", "All"}},
		{"ad-tool-password", "", []string{"nxc", "smb", "10.0.0.5", "-u", "admin", "-phunter2"}, "hunter2", []string{"admin"}},
		{"samba-user-password", "", []string{"smbclient", "//fs/share", "-U", "CORP/bob%hunter2"}, "hunter2", []string{"CORP/bob%", "//fs/share"}},
		{"samba-user-password", "", []string{"net", "ads", "join", "--user=admin%hunter2"}, "hunter2", []string{"--user=admin%"}},
		{"wbinfo-password", "", []string{"wbinfo", "-a", "bob%hunter2"}, "hunter2", []string{"bob%"}},
		{"impacket-target", "", []string{"psexec.py", "/Administrator:P@ssw0rd1@127.0.0.1", "whoami"}, "P@ssw0rd1", []string{"/Administrator:", "@127.0.0.1", "whoami"}},
		{"impacket-target", "/usr/bin/python3", []string{"/usr/bin/python3", "/usr/local/bin/wmiexec.py", "CORP.LOCAL/admin:hun:ter2@10.0.0.5", "ipconfig"}, "hun:ter2", []string{"CORP.LOCAL/admin:", "@10.0.0.5"}},
		{"impacket-target", "", []string{"impacket-secretsdump", "-just-dc", "corp/admin:hunter2@dc01"}, "hunter2", []string{"corp/admin:", "@dc01", "-just-dc"}},
		{"impacket-target", "", []string{"bash", "-c", "psexec.py '/Administrator:P@ssw0rd1@127.0.0.1' 'whoami'"}, "P@ssw0rd1", []string{"psexec.py", "@127.0.0.1"}},
		{"impacket-hashes", "", []string{"wmiexec.py", "-hashes", "aad3b435b51404eeaad3b435b51404ee:31d6cfe0d16ae931b73c59d7e0c089c0", "admin@10.0.0.5"}, "31d6cfe0d16ae931b73c59d7e0c089c0", []string{"-hashes", "admin@10.0.0.5"}},
		{"impacket-hashes", "", []string{"getTGT.py", "-aesKey", "4a3b2c1d", "corp/svc"}, "4a3b2c1d", []string{"corp/svc"}},
	}
	r := newDefault(t)
	for _, tt := range tests {
		t.Run(tt.rule+"/"+strings.Join(tt.args, " "), func(t *testing.T) {
			exe := tt.exe
			if exe == "" {
				exe = "/usr/bin/" + tt.args[0]
			}
			in := slices.Clone(tt.args)
			got := r.Args(exe, tt.args)
			require.Equal(t, in, tt.args, "Args modified its argument")
			require.Len(t, got, len(tt.args))
			joined := strings.Join(got, "\x00")
			assert.NotContains(t, joined, tt.secret)
			assert.Contains(t, joined, Placeholder)
			assert.Equal(t, tt.args[0], got[0], "program name")
			for _, k := range tt.keep {
				assert.Contains(t, joined, k)
			}
			// The same command line as one string, as in a log line or
			// an environment value, loses the secret too.
			line := r.String(strings.Join(tt.args, " "))
			assert.NotContains(t, line, tt.secret, "String")
		})
	}
}

// TestDefaultKeeps gives the rules near misses, which must come out as
// they went in.
func TestDefaultKeeps(t *testing.T) {
	tests := [][]string{
		{"docker", "run", "-p", "8080:80", "nginx"},
		{"docker", "run", "-p8080:80", "nginx"},
		{"ssh", "-p", "2222", "host"},
		{"python3", "-m", "http.server", "-p", "8000"},
		{"mysql", "-p", "shop"}, // a lone -p prompts; shop is the database
		{"mysql", "-P", "3306", "-h", "db"},
		{"mysql", "--port=3306"},
		{"app", "--password-file", "/run/secrets/db"},
		{"app", "--token-file=/var/run/token"},
		{"pg_dump", "--no-password", "-h", "db", "shop"},
		{"app", "--max-tokens", "100"},
		{"app", "--password"}, // no value to redact
		{"curl", "-u", "bob", "https://h"},
		{"echo", "Authorization"},
		{"echo", "Authorization required", "token", "secret"},
		{"git", "commit", "-m", "rotate the token handling; password policy"},
		{"git", "checkout", "3f786850e387550fdab836ed7e6dc881de23001b"},
		{"app", "--id", "550e8400-e29b-41d4-a716-446655440000"},
		{"curl", "https://example.com/a?b=c", "https://user@example.com/", "ssh://git@github.com:22/o/r"},
		{"curl", "http://host:8080/x@y"},
		{"curl", "-H", "X-Request-Id: 1234"},
		{"env", "TOKEN_FILE=/run/x", "PASSWORD_MIN_LENGTH=8", "PWD=/home/u", "OLDPWD=/"},
		{"app", "bypass:yes"},
		{"app", "AKIA123", "eyJhbGciOi", "sk_test", "ghp_short", "npm_install"},
		{"ls", "-la", "/tmp"},
		{"make", "-j8", "CC=gcc"},
		{"sh", "-c", "cd /src && go test ./... | tee out.txt"},
		{"/bin/bash", "-c", "for f in *.go; do gofmt -l \"$f\"; done\n\tdone"},
		{"app", ""},
		// -w, -p, -U, -a and -s are other things elsewhere, and user:x@host
		// is a password only for Impacket.
		{"wc", "-w", "README.md"},
		{"grep", "-w", "token", "main.go"},
		{"ldapsearch", "-x", "-W", "-D", "cn=admin", "-s", "sub", "-b", "dc=example,dc=com", "(uid=alice)"},
		{"ssh", "-p", "2222", "-a", "host"},
		{"sort", "-u", "-s", "names.txt"},
		{"ls", "-a", "/tmp"},
		{"useradd", "-U", "-s", "/bin/bash", "bob"},
		{"smbclient", "//fs/share", "-U", "CORP/bob"},
		{"docker", "pull", "alpine:3.19@sha256:4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1"},
		{"xdg-open", "mailto:alice@example.com"},
		{"psexec.py", "corp/admin@10.0.0.5", "-k", "-no-pass"},
		{"secretsdump.py", "-sam", "SAM", "-system", "SYSTEM", "LOCAL"},
		// Bundles end at a letter that takes a value, or at what is no
		// option; a password option alone prompts; files and variables
		// that hold a password are not the password.
		{"curl", "-sSL", "https://example.com/install.sh"},
		{"curl", "-XPUT", "-o", "u", "https://h/"},
		{"curl", "-b", "cookies.txt", "-c", "jar.txt", "https://h/"},
		{"ldapsearch", "-Hldap://www.example.com", "-x", "-y", "/run/ldap.pw"},
		{"mysql", "-uprod", "-Nse", "select 1", "shop"},
		{"zip", "-9", "-r", "out.zip", "."},
		{"unzip", "-o", "a.zip", "-d", "/tmp/x"},
		{"7z", "a", "-p", "-mhe=on", "a.7z"},
		{"rar", "x", "-p-", "a.rar"},
		{"openssl", "enc", "-kfile", "/run/k", "-in", "f"},
		{"openssl", "pkcs12", "-passin", "env:P12PW", "-passout", "file:/run/pw"},
		{"keytool", "-list", "-storepass:env", "KSPW", "-keystore", "ks.jks"},
		{"htpasswd", "-c", ".htpasswd", "bob"},
		{"htpasswd", "-D", ".htpasswd", "bob"},
		{"ssh-keygen", "-lf", "k.pub"},
		{"ipmitool", "-I", "lanplus", "-H", "bmc", "-U", "admin", "-E", "power", "status"},
		{"mount", "-o", "ro,uid=0,credentials=/root/.smb", "//fs/s", "/mnt"},
		{"sqlplus", "-s", "/nolog", "@dir/x.sql"},
		{"sqlplus", "/", "as", "sysdba"},
		{"git", "clone", "https://deploy-bot@git.example.com/o/r"},
		{"app", "https://first.last.someone.example@h/"},
		{"app", "https://h/search?q=signature&design=1&sigma=2&page=2"},
		{},
	}
	r := newDefault(t)
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			exe := "/usr/bin/x"
			if len(args) > 0 {
				exe = "/usr/bin/" + args[0]
			}
			assert.Equal(t, args, r.Args(exe, args))
			line := strings.Join(args, " ")
			assert.Equal(t, line, r.String(line))
		})
	}
}

func TestProgramsOnlyForThem(t *testing.T) {
	r := newDefault(t)
	// -p is mysql's password in the mysql command, and a port in docker's.
	got := r.String("mysql -uroot -phunter2 db; docker run -p8080:80 nginx")
	assert.Equal(t, "mysql -uroot -p[REDACTED] db; docker run -p8080:80 nginx", got)
	got = r.String("mysql -e 'select 1' | nc -p1234 host")
	assert.Equal(t, "mysql -e 'select 1' | nc -p1234 host", got)
	// A subcommand counts only before the flag, in the same command.
	for _, line := range []string{
		"docker run -p 8080:80 login",
		"docker login ghcr.io; docker run -p 8080:80 nginx",
		"docker -p 1 login",
		"login docker -p 1",
	} {
		assert.Equal(t, line, r.String(line))
	}
	assert.Equal(t, []string{"docker", "run", "-p", "8080:80", "nginx"},
		r.Args("/usr/bin/docker", []string{"docker", "run", "-p", "8080:80", "nginx"}))
}

func TestQuotedValueIsOneWord(t *testing.T) {
	r := newDefault(t)
	got := r.String(`app --password="two words" --password 'and three more' -v`)
	assert.Equal(t, `app --password=[REDACTED] --password '[REDACTED]' -v`, got)
	got = r.String(`sh -c "su -c 'mysql -phunter2'"`)
	assert.NotContains(t, got, "hunter2")
}

func TestUnchangedIsNotCopied(t *testing.T) {
	r := newDefault(t)
	args := []string{"git", "commit", "-m", "fix the build", "--no-verify"}
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { r.Args("/usr/bin/git", args) }), "only the returned slice")
	assert.Zero(t, testing.AllocsPerRun(100, func() { r.String("https://ci.example.com/job/42/") }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { Clean("/home/runner/work", 4096) }))
}

func TestCustomRules(t *testing.T) {
	rules := append(Default(),
		Rule{Name: "acme-token", Pattern: `\bacme_(?P<secret>[0-9a-f]{8})\b`},
		Rule{Name: "deploy-key", Flags: []string{"--deploy-key"}, Programs: []string{"deployctl"}},
		Rule{Name: "phone", Pattern: `[0-9]{3}-[0-9]{4}`}, // keywords -0 to -9
		Rule{Name: "md5", Pattern: `\b[0-9a-f]{32}\b`},    // no keyword: tried on every string
		Rule{Name: "two-ways", Pattern: `\bzkey=(?P<secret>\w+)|\bzk:(?P<secret>\w+)`},
	)
	r, err := New(rules)
	require.NoError(t, err)
	assert.Equal(t, []string{"app", "acme_[REDACTED]"}, r.Args("/app", []string{"app", "acme_deadbeef"}))
	assert.Equal(t, []string{"deployctl", "--deploy-key", "[REDACTED]"}, r.Args("/bin/deployctl", []string{"deployctl", "--deploy-key", "k1"}))
	assert.Equal(t, []string{"other", "--deploy-key", "k1"}, r.Args("/bin/other", []string{"other", "--deploy-key", "k1"}))
	assert.Equal(t, "call [REDACTED]", r.String("call 555-0100"))
	assert.Equal(t, "sum [REDACTED]", r.String("sum d41d8cd98f00b204e9800998ecf8427e"))
	assert.Equal(t, "zkey=[REDACTED] zk:[REDACTED]", r.String("zkey=v1 zk:v2"), "a secret group in each alternative")
	md5 := len(r.patterns) - 2 // the last but one rule with a Pattern and no Flags
	assert.NotZero(t, r.always[md5/64]&(1<<(md5%64)), "md5 is always a candidate")
}

// TestCustomFlagBeyondASCII: a flag named beyond ASCII matches as it is
// written, its ASCII letters in either case.
func TestCustomFlagBeyondASCII(t *testing.T) {
	r, err := New([]Rule{{Name: "schluessel", Flags: []string{"--SCHLÜSSEL"}}, {Name: "stray", Flags: []string{"k\xb8"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"app", "--SCHLÜSSEL=" + Placeholder}, r.Args("/app", []string{"app", "--SCHLÜSSEL=x"}))
	assert.Equal(t, []string{"app", "--schlÜssel", Placeholder}, r.Args("/app", []string{"app", "--schlÜssel", "x"}))
	assert.Equal(t, []string{"app", "K\xb8=" + Placeholder}, r.Args("/app", []string{"app", "K\xb8=x"}))
}

func TestArgumentRule(t *testing.T) {
	rules := append(Default(), Rule{Name: "acme-dsn", Programs: []string{"acmectl connect"}, Pattern: `^[a-z]+:(?P<secret>[^@]+)@`})
	r, err := New(rules)
	require.NoError(t, err)
	assert.Equal(t, []string{"acmectl", "connect", "bob:" + Placeholder + "@db"},
		r.Args("/usr/bin/acmectl", []string{"acmectl", "connect", "bob:hunter2@db"}))
	// Only after the program and its subcommand, in the same command.
	for _, args := range [][]string{
		{"acmectl", "status", "bob:hunter2@db"},
		{"other", "connect", "bob:hunter2@db"},
	} {
		assert.Equal(t, args, r.Args("/usr/bin/"+args[0], args))
	}
	assert.Equal(t, "acmectl connect bob:[REDACTED]@db; echo bob:hunter2@db",
		r.String("acmectl connect bob:hunter2@db; echo bob:hunter2@db"))
	assert.Equal(t, "sudo acmectl connect 'bob:[REDACTED]@db'", r.String("sudo acmectl connect 'bob:hunter2@db'"))
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		rule Rule
		want string
	}{
		{Rule{Name: "broken", Pattern: `(unclosed`}, `redaction rule 1 ("broken"): pattern: error parsing regexp`},
		{Rule{Name: "empty"}, `redaction rule 1 ("empty"): neither pattern nor flags`},
		{Rule{Pattern: `x`}, `redaction rule 1 (""): no name`},
		{Rule{Name: "first", Pattern: `y`}, `redaction rule 1 ("first"): a rule of that name comes earlier`},
		{Rule{Name: "v", Flags: []string{"--k"}, Value: "later"}, `redaction rule 1 ("v"): value "later"`},
		{Rule{Name: "f", Flags: []string{"---k"}}, `redaction rule 1 ("f"): flag "---k"`},
		{Rule{Name: "f", Flags: []string{"--*"}}, `redaction rule 1 ("f"): flag "--*"`},
		// A shell separator ends a command: as a flag or a program's word
		// it would never be found.
		{Rule{Name: "f", Flags: []string{"&&"}}, `redaction rule 1 ("f"): flag "&&"`},
		{Rule{Name: "p", Flags: []string{"-k"}, Programs: []string{"x ;"}}, `redaction rule 1 ("p"): program "x ;"`},
		{Rule{Name: "p", Flags: []string{"-k"}, Programs: []string{"/usr/bin/x"}}, `redaction rule 1 ("p"): program "/usr/bin/x"`},
		{Rule{Name: "p", Programs: []string{"x"}}, `redaction rule 1 ("p"): neither pattern nor flags`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := New([]Rule{{Name: "first", Pattern: `x`}, tt.rule})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestConfig(t *testing.T) {
	var c struct {
		Redaction Config `yaml:"redaction"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(`
redaction:
  disable: [jwt]
  rules:
    - name: acme-token
      pattern: '\bacme_[0-9a-f]{8}\b'
    - name: vault-login
      flags: ["-token"]
      value: next
      programs: [vault]
`), &c))
	r, err := c.Redaction.Redactor()
	require.NoError(t, err)
	assert.Equal(t, []string{"app", jwt, Placeholder}, r.Args("/app", []string{"app", jwt, "acme_0123abcd"}))
	assert.Equal(t, []string{"vault", "login", "-token", Placeholder}, r.Args("/usr/bin/vault", []string{"vault", "login", "-token", "s.x"}))
	assert.Equal(t, []string{"app", "--password=" + Placeholder}, r.Args("/app", []string{"app", "--password=x"}), "defaults stay")

	_, err = Config{Disable: []string{"jwtt"}}.Redactor()
	assert.ErrorContains(t, err, `disable "jwtt": no default rule has that name`)
	_, err = Config{Rules: []Rule{{Name: "jwt", Pattern: "x"}}}.Redactor()
	assert.ErrorContains(t, err, `("jwt"): a rule of that name comes earlier`)
}

func TestDefaultRulesHaveKeywords(t *testing.T) {
	r := newDefault(t)
	for _, w := range r.always {
		assert.Zero(t, w, "a default rule runs on every string: give its pattern a literal")
	}
}

func TestZeroRedactor(t *testing.T) {
	var r Redactor
	assert.Equal(t, []string{"a", "--password=x"}, r.Args("a", []string{"a", "--password=x"}))
	assert.Equal(t, "x", r.String("x"))
	var nr *Redactor
	assert.Equal(t, "x", nr.String("x"))
}

func TestHostileInput(t *testing.T) {
	r := newDefault(t)
	var every strings.Builder
	for b := range 256 {
		every.WriteByte(byte(b))
	}
	huge := strings.Repeat("A\xff\x00\x1b", 1<<18) + " --password=hunter2 " + strings.Repeat("é", 1000)
	inputs := []string{
		huge,
		every.String(),
		"\xff\xfe\xfd",
		"\x00\x00--password\x00hunter2",
		"-----BEGIN PRIVATE KEY-----" + strings.Repeat("\x00", 1<<16),
		"Authorization: \x1b[31m",
		"https://u:\xff@h",
		"\u202egnp.exe",
		strings.Repeat("://", 1<<16),
		strings.Repeat("\"'", 1<<16),
	}
	for i, in := range inputs {
		outs := append(r.Args("/bin/x", []string{"x", in, "--password", in}), r.String(in))
		for _, max := range []int{0, 1, 2, 3, 4, 7, 64, 4096} {
			for _, out := range outs {
				c := Clean(out, max)
				require.True(t, utf8.ValidString(c), "input %d, max %d", i, max)
				require.LessOrEqual(t, len(c), max, "input %d", i)
				for j := 0; j < len(c); j++ {
					require.False(t, c[j] < 0x20 && c[j] != '\t' && c[j] != '\n' || c[j] == 0x7f, "control byte in %q", c)
				}
			}
		}
	}
	assert.NotContains(t, r.String(huge), "hunter2")
}

func TestConcurrentUse(t *testing.T) {
	r := newDefault(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				got := r.Args("/usr/bin/mysql", []string{"mysql", "-phunter2", "https://u:hunter2@h"})
				assert.Equal(t, []string{"mysql", "-p" + Placeholder, "https://u:" + Placeholder + "@h"}, got)
			}
		})
	}
	wg.Wait()
}

func FuzzArgs(f *testing.F) {
	f.Add("/usr/bin/mysql", "-uroot", "hunter2", 64)
	f.Add("/bin/sh", "-c", "a b'c\"", 4096)
	f.Add("/usr/bin/sshpass", "-p", "\xff\x00", 5)
	f.Add("", "--token", "RED", 1)
	f.Add("/x", "Authorization: Bearer", "[REDACTED]", 20)
	r := newDefault(f)
	f.Fuzz(func(t *testing.T, exe, arg, secret string, max int) {
		args := []string{base(exe), arg, "--password=" + secret}
		in := slices.Clone(args)
		out := r.Args(exe, args)
		require.Equal(t, in, args, "Args modified its argument")
		require.Len(t, out, len(args))
		if secret != "" {
			// The value is gone whole, whatever it holds; a flag in arg
			// may take the whole element as its value.
			require.Contains(t, []string{"--password=" + Placeholder, Placeholder}, out[2])
		}
		max = max%8192 + 1
		if max < 1 {
			max += 8192
		}
		for _, s := range append(out, r.String(arg), r.String(exe)) {
			c := Clean(s, max)
			require.True(t, utf8.ValidString(c))
			require.LessOrEqual(t, len(c), max)
		}
	})
}

// benchArgs measures Args on one command line.
func benchArgs(b *testing.B, exe string, args ...string) {
	r := newDefault(b)
	b.ReportAllocs()
	for b.Loop() {
		r.Args(exe, args)
	}
}

func BenchmarkArgsClean(b *testing.B) {
	benchArgs(b, "/usr/bin/git", "git", "commit", "-m", "fix the build", "--no-verify")
}

func BenchmarkArgsSecret(b *testing.B) {
	benchArgs(b, "/usr/bin/curl", "curl", "-sf", "-H", "Authorization: Bearer hunter2", "https://bob:hunter2@example.com/api")
}

func BenchmarkArgsShellScript(b *testing.B) {
	benchArgs(b, "/bin/sh", "sh", "-c", "set -e; cd /src && go build ./... && go test -race ./... 2>&1 | tee test.log")
}

func BenchmarkStringClean(b *testing.B) {
	r := newDefault(b)
	b.ReportAllocs()
	for b.Loop() {
		r.String("https://ci.example.com/job/vigil/job/main/4242/")
	}
}

// BenchmarkArgsManyFlags is a command of many flags of rules limited to
// programs it does not name (mysql's -p): the time per argument must not
// grow with their number. Compare ns/arg with n=64.
func BenchmarkArgsManyFlags(b *testing.B) {
	for _, n := range []int{64, 1024, 16384} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			args := append([]string{"tool"}, slices.Repeat([]string{"-p"}, n)...)
			benchArgs(b, "/usr/bin/tool", args...)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/arg")
		})
	}
}
