package redact

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Secrets of the table below: none is a word that a rule recognises by
// itself, so that each case shows where the secret stands is enough.
const (
	pw1 = "Pw1-zq9"
	pw2 = "Pw2-xk7"
)

// hexToken is a token of no published format, 40 hex digits as a classic
// GitHub or a Gitea token.
var hexToken = strings.Repeat("3f7a9c1e", 5)

// toolCase is a command line whose secrets must go, and whose other parts
// named in keep must stay.
type toolCase struct {
	name    string
	args    []string
	secrets []string
	keep    []string
}

// toolCases are the password options of common tools, as their manuals
// document them, in each form the tool accepts: --opt=value, --opt value,
// -oVALUE, -o VALUE, bundled after options without a value (-su), and
// secrets in URLs.
func toolCases() []toolCase {
	return []toolCase{
		// The cases of issue 16.
		{"curl -su", []string{"curl", "-su", "admin:" + pw1, "https://h/"}, []string{pw1}, []string{"-su", "admin:", "https://h/"}},
		{"zip -P", []string{"zip", "-P", pw1, "a.zip", "f"}, []string{pw1}, []string{"-P", "a.zip"}},
		{"7z -p", []string{"7z", "a", "-p" + pw1, "a.7z", "f"}, []string{pw1}, []string{"-p", "a.7z"}},
		{"keytool", []string{"keytool", "-genkeypair", "-keystore", "ks.jks", "-storepass", pw1, "-keypass", pw2}, []string{pw1, pw2}, []string{"ks.jks", "-storepass", "-keypass"}},
		{"ldapsearch -w", []string{"ldapsearch", "-x", "-D", "cn=admin", "-w", pw1, "-b", "dc=x"}, []string{pw1}, []string{"cn=admin", "dc=x"}},
		{"smbclient -U", []string{"smbclient", "//fs/share", "-U", "bob%" + pw1}, []string{pw1}, []string{"bob%", "//fs/share"}},
		{"ssh-keygen -N", []string{"ssh-keygen", "-t", "ed25519", "-N", pw1, "-f", "k"}, []string{pw1}, []string{"ed25519", "k"}},
		{"token as user", []string{"git", "clone", "https://" + hexToken + "@git.example.com/o/r.git"}, []string{hexToken}, []string{"https://", "@git.example.com/o/r.git"}},
		{"X-Amz-Signature", []string{"curl", "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20250101T000000Z&X-Amz-Signature=" + hexToken + "&x=1"}, []string{hexToken}, []string{"X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Signature=", "&x=1"}},
		{"Azure SAS sig", []string{"azcopy", "copy", "https://a.blob.core.windows.net/c/b?sv=2022-11-02&sp=r&sig=" + pw1 + "%3D", "."}, []string{pw1}, []string{"sv=2022-11-02", "&sp=r", "sig="}},

		// Archivers.
		{"zip -rP", []string{"zip", "-rP", pw1, "out.zip", "dir"}, []string{pw1}, []string{"-rP", "out.zip", "dir"}},
		{"zip -P=", []string{"zip", "-P=" + pw1, "out.zip", "f"}, []string{pw1}, []string{"out.zip"}},
		{"zip --password", []string{"zip", "--password", pw1, "out.zip", "f"}, []string{pw1}, []string{"out.zip"}},
		{"unzip -P", []string{"unzip", "-P", pw1, "a.zip"}, []string{pw1}, []string{"a.zip"}},
		{"unzip -oP", []string{"unzip", "-oP", pw1, "a.zip"}, []string{pw1}, []string{"-oP", "a.zip"}},
		{"unzip -Ppw", []string{"unzip", "-P" + pw1, "a.zip"}, []string{pw1}, []string{"a.zip"}},
		{"7za -mhe -p", []string{"7za", "a", "-mhe=on", "-p" + pw1, "a.7z", "d"}, []string{pw1}, []string{"-mhe=on", "a.7z"}},
		{"7z -P", []string{"7z", "x", "-P" + pw1, "a.7z"}, []string{pw1}, []string{"a.7z"}},
		{"rar -p", []string{"rar", "a", "-p" + pw1, "a.rar", "d"}, []string{pw1}, []string{"a.rar"}},
		{"rar -hp", []string{"rar", "a", "-hp" + pw1, "a.rar", "d"}, []string{pw1}, []string{"-hp", "a.rar"}},
		{"unrar -p", []string{"unrar", "x", "-p" + pw1, "a.rar"}, []string{pw1}, []string{"a.rar"}},
		{"openssl enc -k", []string{"openssl", "enc", "-aes-256-cbc", "-k", pw1, "-in", "f"}, []string{pw1}, []string{"-aes-256-cbc", "-in"}},
		{"openssl enc -K", []string{"openssl", "enc", "-aes-128-cbc", "-K", hexToken, "-iv", "00"}, []string{hexToken}, []string{"-iv"}},
		{"openssl enc -pass", []string{"openssl", "enc", "-pass", "pass:" + pw1, "-in", "f"}, []string{pw1}, []string{"-in"}},
		{"openssl -passin -passout", []string{"openssl", "pkcs12", "-export", "-passin", "pass:" + pw1, "-passout", "pass:" + pw2}, []string{pw1, pw2}, []string{"-passin", "-passout"}},
		{"gpg --passphrase", []string{"gpg", "--batch", "--passphrase", pw1, "-c", "f"}, []string{pw1}, []string{"--batch", "-c"}},
		{"gpg --passphrase=", []string{"gpg", "--passphrase=" + pw1, "-d", "f.gpg"}, []string{pw1}, []string{"f.gpg"}},

		// Database clients.
		{"mysql -p", []string{"mysql", "-uroot", "-p" + pw1, "shop"}, []string{pw1}, []string{"-uroot", "shop"}},
		{"mysql --password=", []string{"mysql", "--password=" + pw1}, []string{pw1}, nil},
		{"mysql -Bsp", []string{"mysql", "-Bsp" + pw1, "-e", "select 1"}, []string{pw1}, []string{"select 1"}},
		{"psql URI", []string{"psql", "postgres://app:" + pw1 + "@db:5432/app"}, []string{pw1}, []string{"app:", "@db:5432/app"}},
		{"psql conninfo", []string{"psql", "host=db user=app password=" + pw1}, []string{pw1}, []string{"user=app"}},
		{"mongosh -p", []string{"mongosh", "-u", "admin", "-p", pw1}, []string{pw1}, []string{"admin"}},
		{"mongodump URI", []string{"mongodump", "--uri", "mongodb+srv://admin:" + pw1 + "@c.example.net/db"}, []string{pw1}, []string{"@c.example.net/db"}},
		{"redis-cli -a", []string{"redis-cli", "-a", pw1, "ping"}, []string{pw1}, []string{"ping"}},
		{"redis-cli --pass", []string{"redis-cli", "--user", "app", "--pass", pw1}, []string{pw1}, []string{"app"}},
		{"redis-cli -u", []string{"redis-cli", "-u", "redis://app:" + pw1 + "@cache:6379/0"}, []string{pw1}, []string{"@cache:6379/0"}},
		{"sqlcmd -P", []string{"sqlcmd", "-S", "db", "-U", "sa", "-P", pw1}, []string{pw1}, []string{"sa"}},
		{"sqlplus", []string{"sqlplus", "-s", "scott/" + pw1 + "@orcl", "@q.sql"}, []string{pw1}, []string{"scott/", "@orcl", "@q.sql"}},
		{"sqlldr userid=", []string{"sqlldr", "userid=scott/" + pw1, "control=load/x.ctl"}, []string{pw1}, []string{"userid=scott/", "control=load/x.ctl"}},

		// LDAP.
		{"ldapsearch -xw", []string{"ldapsearch", "-xw", pw1, "-b", "dc=x"}, []string{pw1}, []string{"-xw", "dc=x"}},
		{"ldapsearch -xLLLw", []string{"ldapsearch", "-xLLLw" + pw1, "-b", "dc=x"}, []string{pw1}, []string{"-xLLLw", "dc=x"}},
		{"ldapmodify -w", []string{"ldapmodify", "-H", "ldap://ds", "-w", pw1, "-f", "c.ldif"}, []string{pw1}, []string{"ldap://ds", "c.ldif"}},
		{"ldappasswd -s", []string{"ldappasswd", "-x", "-w", pw1, "-s", pw2, "uid=bob"}, []string{pw1, pw2}, []string{"uid=bob"}},

		// SMB.
		{"smbclient --password=", []string{"smbclient", "//fs/s", "--user=bob", "--password=" + pw1}, []string{pw1}, []string{"--user=bob"}},
		{"smbclient --user=u%pw", []string{"smbclient", "//fs/s", "--user=CORP/bob%" + pw1}, []string{pw1}, []string{"CORP/bob%"}},
		{"mount -o password=", []string{"mount", "-t", "cifs", "//fs/s", "/mnt", "-o", "username=bob,password=" + pw1 + ",uid=0"}, []string{pw1}, []string{"username=bob"}},
		{"mount -o pass=", []string{"mount", "-t", "cifs", "//fs/s", "/mnt", "-o", "user=bob,pass=" + pw1 + ",uid=0"}, []string{pw1}, []string{"user=bob", ",uid=0"}},
		{"mount.cifs user=u%pw", []string{"mount.cifs", "//fs/s", "/mnt", "-o", "user=bob%" + pw1 + ",ro"}, []string{pw1}, []string{"user=bob%", ",ro"}},

		// SSH.
		{"sshpass -p", []string{"sshpass", "-p", pw1, "ssh", "host"}, []string{pw1}, []string{"ssh", "host"}},
		{"ssh-keygen -p -P -N", []string{"ssh-keygen", "-p", "-P", pw1, "-N", pw2, "-f", "k"}, []string{pw1, pw2}, []string{"-f"}},
		{"ssh-keygen -qN", []string{"ssh-keygen", "-qN", pw1, "-f", "k"}, []string{pw1}, []string{"-qN"}},
		{"ssh-keygen -Npw", []string{"ssh-keygen", "-N" + pw1, "-f", "k"}, []string{pw1}, []string{"-N"}},

		// Java keystores.
		{"keytool -importkeystore", []string{"keytool", "-importkeystore", "-srcstorepass", pw1, "-deststorepass", pw2}, []string{pw1, pw2}, []string{"-srcstorepass", "-deststorepass"}},
		{"keytool -srckeypass -destkeypass", []string{"keytool", "-importkeystore", "-srckeypass", pw1, "-destkeypass", pw2}, []string{pw1, pw2}, nil},
		{"keytool -storepasswd -new", []string{"keytool", "-storepasswd", "-storepass", pw1, "-new", pw2}, []string{pw1, pw2}, []string{"-new"}},
		{"jarsigner", []string{"jarsigner", "-keystore", "ks.jks", "-storepass", pw1, "-keypass", pw2, "app.jar", "alias"}, []string{pw1, pw2}, []string{"app.jar", "alias"}},

		// htpasswd and its like: with -b, the last argument is the password.
		{"htpasswd -b", []string{"htpasswd", "-b", ".htpasswd", "bob", pw1}, []string{pw1}, []string{".htpasswd", "bob"}},
		{"htpasswd -bc", []string{"htpasswd", "-bc", ".htpasswd", "bob", pw1}, []string{pw1}, []string{"bob"}},
		{"htpasswd -nbB", []string{"htpasswd", "-nbB", "bob", pw1}, []string{pw1}, []string{"-nbB", "bob"}},
		{"htpasswd -B -C 10 -b", []string{"htpasswd", "-B", "-C", "10", "-b", "f", "bob", pw1}, []string{pw1}, []string{"bob", "10"}},
		{"mosquitto_passwd -b", []string{"mosquitto_passwd", "-b", "pw.txt", "bob", pw1}, []string{pw1}, []string{"pw.txt", "bob"}},

		// Cloud and registry CLIs.
		{"aws configure set", []string{"aws", "configure", "set", "aws_secret_access_key", pw1}, []string{pw1}, []string{"aws_secret_access_key"}},
		{"az login -p", []string{"az", "login", "--service-principal", "-u", "app", "-p", pw1, "--tenant", "t"}, []string{pw1}, []string{"app"}},
		{"az login --password", []string{"az", "login", "-u", "bob", "--password", pw1}, []string{pw1}, []string{"bob"}},
		{"gcloud --access-token-file", []string{"gcloud", "--access-token-file", "/run/t", "projects", "list"}, nil, []string{"/run/t"}},
		{"doctl -t", []string{"doctl", "-t", pw1, "compute", "droplet", "list"}, []string{pw1}, []string{"compute"}},
		{"doctl --access-token", []string{"doctl", "--access-token=" + pw1, "account", "get"}, []string{pw1}, []string{"account"}},
		{"docker login -p", []string{"docker", "login", "-u", "ci", "-p", pw1, "r.example.com"}, []string{pw1}, []string{"ci", "r.example.com"}},
		{"docker login --password", []string{"docker", "login", "--username", "ci", "--password", pw1}, []string{pw1}, []string{"ci"}},
		{"helm repo add --password", []string{"helm", "repo", "add", "--username", "ci", "--password", pw1, "charts", "https://c.example.com"}, []string{pw1}, []string{"charts", "https://c.example.com"}},
		{"ipmitool -P", []string{"ipmitool", "-I", "lanplus", "-H", "bmc", "-U", "admin", "-P", pw1, "power", "status"}, []string{pw1}, []string{"admin", "power"}},

		// HTTP clients.
		{"git clone x-access-token", []string{"git", "clone", "https://x-access-token:" + pw1 + "@github.com/o/r.git"}, []string{pw1}, []string{"https://x-access-token:", "@github.com/o/r.git"}},
		{"git clone user:token", []string{"git", "clone", "https://bob:" + pw1 + "@git.example.com/o/r"}, []string{pw1}, []string{"https://bob:"}},
		{"curl -u", []string{"curl", "-u", "bob:" + pw1, "https://h"}, []string{pw1}, []string{"bob:"}},
		{"curl --user=", []string{"curl", "--user=bob:" + pw1, "https://h"}, []string{pw1}, []string{"--user=bob:"}},
		{"curl -fsSLu", []string{"curl", "-fsSLu", "bob:" + pw1, "https://h"}, []string{pw1}, []string{"-fsSLu", "bob:"}},
		{"curl -E cert:pw", []string{"curl", "-E", "client.pem:" + pw1, "https://h"}, []string{pw1}, []string{"client.pem:"}},
		{"curl -b cookies", []string{"curl", "-b", "session=" + pw1 + "; theme=" + pw2, "https://h"}, []string{pw1, pw2}, []string{"session=", "; theme="}},
		{"curl bearer", []string{"curl", "-H", "Authorization: Bearer " + pw1, "https://h"}, []string{pw1}, []string{"Authorization: Bearer "}},
		{"wget --password", []string{"wget", "--user=bob", "--password=" + pw1, "https://h/f"}, []string{pw1}, []string{"--user=bob"}},
		{"wget --http-password", []string{"wget", "--http-user", "bob", "--http-password", pw1, "https://h/f"}, []string{pw1}, []string{"bob"}},

		// Signed URLs and secrets in any URL, whatever the program.
		{"GCS X-Goog-Signature", []string{"app", "https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sa%40p.iam.gserviceaccount.com&X-Goog-Signature=" + hexToken}, []string{hexToken}, []string{"X-Goog-Credential=sa%40p.iam.gserviceaccount.com"}},
		{"S3 v2 Signature", []string{"app", "https://b.s3.amazonaws.com/k?AWSAccessKeyId=x&Expires=1&Signature=" + pw1 + "%3D"}, []string{pw1}, []string{"Expires=1"}},
		{"X-Amz-Security-Token", []string{"app", "https://h/k?X-Amz-Security-Token=" + pw1 + "&X-Amz-Signature=" + pw2}, []string{pw1, pw2}, nil},
		{"access_token in a fragment", []string{"app", "https://h/cb#access_token=" + pw1 + "&state=s"}, []string{pw1}, []string{"&state=s"}},
		{"user-only token in any argument", []string{"app", "--remote=https://" + hexToken + "@h/r"}, []string{hexToken}, []string{"@h/r"}},
		{"password in a URL in a sentence", []string{"app", "see ftp://u:" + pw1 + "@ftp.example.com/x now"}, []string{pw1}, []string{"now"}},
	}
}

// TestToolPasswords runs the table: as argv, as one string (a log line),
// and as the script of sh -c, where the shell's words are found again.
func TestToolPasswords(t *testing.T) {
	r := newDefault(t)
	for _, tc := range toolCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := r.Args("/usr/bin/"+tc.args[0], tc.args)
			joined := strings.Join(got, "\x00")
			script := r.Args("/bin/sh", []string{"sh", "-c", shellQuote(tc.args)})[2]
			outputs := map[string]string{"argv": joined, "script": script}
			if !strings.ContainsAny(strings.Join(tc.args, ""), " ;") {
				outputs["string"] = r.String(strings.Join(tc.args, " "))
			}
			for form, out := range outputs {
				for _, s := range tc.secrets {
					assert.NotContains(t, out, s, form)
				}
				for _, k := range tc.keep {
					assert.Contains(t, out, k, form)
				}
			}
			if len(tc.secrets) == 0 {
				assert.Equal(t, tc.args, got, "nothing to redact")
			}
		})
	}
}

// shellQuote writes args as a shell would read them back, each quoted
// only when it needs to be.
func shellQuote(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`;&|<>()*?[]#~%") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		quoted[i] = a
	}
	return strings.Join(quoted, " ")
}
