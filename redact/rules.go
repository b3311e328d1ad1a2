package redact

import (
	"fmt"
	"slices"
)

// Default returns the built-in rules, a new slice on each call. Each rule
// replaces only the secret: flag names, the user and host of a URL, the
// scheme of an Authorization header and the name in a NAME=value stay.
//
// Options, among argv and among the words of a string (sh -c scripts):
//
//   - secret-flags: the value of --password, --passwd, --pass, --secret,
//     --token, --api-key, --apikey, --access-key, --secret-key,
//     --private-key, --passphrase, --client-secret, --oauth2-bearer and
//     of every option whose name ends in one of password, passwd,
//     passphrase, secret, token, api-key, apikey, access-key, secret-key,
//     private-key (--db-password, --access-token, --ftp-password; not
//     --password-file), with one dash or two, in any case, "_" for "-",
//     as --password=VALUE or --password VALUE.
//   - mysql-password: -pVALUE for mysql, mysqladmin, mysqldump,
//     mysqlimport, mysqlshow, mysqlcheck, mysqlbinlog, mysqlpump, mysqlsh,
//     mariadb, mariadb-admin, mariadb-dump, mariadb-import. Only attached:
//     a lone -p makes them prompt, and the next argument is the database.
//   - sshpass-password: sshpass -p VALUE or -pVALUE.
//   - redis-cli-password: redis-cli -a VALUE.
//   - mongo-password: -p VALUE for mongo, mongosh, mongodump, mongorestore,
//     mongoexport, mongoimport.
//   - sqlcmd-password: -P VALUE for sqlcmd and bcp.
//   - login-password: -p VALUE or -pVALUE in the login commands of
//     registry and cloud CLIs: docker, podman, buildah, nerdctl, skopeo,
//     oras login, crane auth login, helm registry login, az login (and az
//     acr login), oc login, cf login. Elsewhere -p is a port
//     (docker run -p 8080:80) and stays.
//   - curl-user: the password in curl -u user:password, --user,
//     -U and --proxy-user (the user stays).
//   - aws-configure-set: the value after the words aws_secret_access_key
//     and aws_session_token, as in aws configure set aws_secret_access_key
//     VALUE.
//   - ldap-password: -w VALUE or -wVALUE for OpenLDAP's clients
//     (ldapsearch, ldapadd, ldapmodify, ldapdelete, ldapmodrdn,
//     ldapcompare, ldapwhoami, ldappasswd, ldapexop, ldapvc), and -a and
//     -s (the old and new passwords) for ldappasswd. Elsewhere -w is
//     something else (wc -w, grep -w) and stays.
//   - ad-tool-password: -p VALUE or -pVALUE for Active Directory tools:
//     ldapdomaindump, windapsearch, the BloodHound collectors
//     (bloodhound-python, bloodhound-ce-python, rusthound), ldeep,
//     adidnsdump, ldapsearch-ad, pywerview, certipy, NetExec and
//     CrackMapExec (nxc, netexec, crackmapexec, cme), smbmap, lsassy,
//     enum4linux-ng, evil-winrm.
//   - samba-user-password: the password in Samba's -U user%password and
//     --user=user%password (smbclient, rpcclient, net, samba-tool,
//     smbcacls, smbget, smbtree, smbcquotas, winexe) and wbinfo's
//     -a/--authenticate user%password (the user stays).
//   - impacket-target: the password in the DOMAIN/user:password@host
//     argument of Impacket's scripts (psexec.py, wmiexec.py,
//     secretsdump.py, ... and Debian's and Kali's impacket-psexec names).
//   - impacket-hashes: the value of -hashes LMHASH:NTHASH and -aesKey,
//     which log on as well as a password, for the same scripts and
//     NetExec, CrackMapExec, lsassy, certipy and evil-winrm.
//
// Patterns, in every string and every argument:
//
//   - url-userinfo: the password in scheme://user:password@host, for every
//     scheme (https, git, postgres, mysql, redis, amqp, ...).
//   - authorization-header: the credentials after Authorization: or
//     Proxy-Authorization:, keeping a Bearer, Basic, Digest, Negotiate,
//     NTLM, Token or Bot scheme; as in curl -H 'Authorization: Bearer …'.
//   - secret-header: the value of X-…-Api-Key, X-…-Token, X-…-Secret,
//     X-…-Auth…, Api-Key and Private-Token headers.
//   - cookie-header: the value of Cookie: and Set-Cookie: headers.
//   - secret-assignment: the value in NAME=value or NAME: value where NAME
//     ends in password, passwd, passphrase, secret, token, api_key, apikey,
//     access_key, private_key, secret_key (in any case, "-" or "_" or
//     nothing before key) or is MYSQL_PWD: env-style arguments
//     (DB_PASSWORD=…, docker run -e, make TOKEN=…), assignments in sh -c
//     scripts, libpq and JDBC strings (password=…), JSON ("token": "…").
//     A quoted value is replaced with its quotes. TOKEN_FILE=/path stays.
//   - connection-string-password: the value of ;Password=… or ;Pwd=… in
//     ADO.NET and ODBC strings, up to the next ";".
//   - openssl-pass: the password in openssl's pass:VALUE.
//   - aws-access-key-id: AKIA…, ASIA…, ABIA…, ACCA… and A3T… key IDs.
//   - github-token: ghp_, gho_, ghu_, ghs_, ghr_ tokens and github_pat_.
//   - gitlab-token: glpat-, glptt-, gldt-, glrt-, glcbt-, gloas-, glft-,
//     glimt-, glagent-, glwt-, glsoat- tokens.
//   - slack-token: xoxa-, xoxb-, xoxe-, xoxo-, xoxp-, xoxr-, xoxs- tokens.
//   - slack-webhook: the secret path of a hooks.slack.com URL.
//   - stripe-key: sk_live_, sk_test_, rk_live_, rk_test_ keys.
//   - google-api-key: AIza… keys.
//   - npm-token: npm_ tokens.
//   - pypi-token: pypi- upload tokens for pypi.org and test.pypi.org.
//   - vault-token: hvs., hvb., hvr. tokens.
//   - ai-api-key: OpenAI (sk-proj-, sk-svcacct-, sk-admin-) and Anthropic
//     (sk-ant-api03-, sk-ant-admin01-) keys.
//   - private-key: the body of a -----BEGIN … PRIVATE KEY----- block (the
//     BEGIN and END lines stay), to the end of the string if it has no END.
//   - jwt: JSON Web Tokens, eyJ….….…
//
// Not covered: secrets of no known format in positional arguments
// (htpasswd -b FILE USER PASSWORD, cf auth USER PASSWORD, samba-tool user
// create USER PASSWORD, net rpc user add USER PASSWORD); values split by
// the shell in unusual ways; a short flag bundled after others (ldapsearch
// -xw VALUE). sshpass -p also hides the -p of the command
// it runs (ssh -p 2222, a port).
func Default() []Rule {
	mysql := []string{
		"mysql", "mysqladmin", "mysqldump", "mysqlimport", "mysqlshow", "mysqlcheck",
		"mysqlbinlog", "mysqlpump", "mysqlsh", "mariadb", "mariadb-admin", "mariadb-dump", "mariadb-import",
	}
	mongo := []string{"mongo", "mongosh", "mongodump", "mongorestore", "mongoexport", "mongoimport"}
	ldap := []string{
		"ldapsearch", "ldapadd", "ldapmodify", "ldapdelete", "ldapmodrdn", "ldapcompare",
		"ldapwhoami", "ldappasswd", "ldapexop", "ldapvc",
	}
	adTools := []string{
		"ldapdomaindump", "windapsearch", "windapsearch.py", "bloodhound-python", "bloodhound-ce-python",
		"bloodhound.py", "rusthound", "rusthound-ce", "ldeep", "adidnsdump", "ldapsearch-ad", "ldapsearch-ad.py",
		"pywerview", "certipy", "certipy-ad", "nxc", "netexec", "crackmapexec", "cme", "smbmap", "smbmap.py",
		"lsassy", "enum4linux-ng", "enum4linux-ng.py", "evil-winrm",
	}
	samba := []string{
		"smbclient", "rpcclient", "net", "samba-tool", "smbcacls", "smbget", "smbtree", "smbcquotas",
		"winexe", "pth-winexe",
	}
	impacket := impacketScripts()
	return []Rule{
		{Name: "secret-flags", Flags: []string{
			"--*password", "--*passwd", "--pass", "--*passphrase", "--*secret", "--*token",
			"--*api-key", "--*apikey", "--*access-key", "--*secret-key", "--*private-key", "--oauth2-bearer",
		}},
		{Name: "mysql-password", Flags: []string{"-p"}, Value: ValueAttached, Programs: mysql},
		{Name: "sshpass-password", Flags: []string{"-p"}, Value: ValueAny, Programs: []string{"sshpass"}},
		{Name: "login-password", Flags: []string{"-p"}, Value: ValueAny, Programs: []string{
			"docker login", "podman login", "buildah login", "nerdctl login", "skopeo login", "oras login",
			"crane auth login", "helm registry login", "az login", "oc login", "cf login",
		}},
		{Name: "redis-cli-password", Flags: []string{"-a"}, Value: ValueAny, Programs: []string{"redis-cli"}},
		{Name: "mongo-password", Flags: []string{"-p"}, Value: ValueAny, Programs: mongo},
		{Name: "sqlcmd-password", Flags: []string{"-P"}, Value: ValueAny, Programs: []string{"sqlcmd", "bcp"}},
		{
			Name: "curl-user", Flags: []string{"-u", "--user", "-U", "--proxy-user"}, Value: ValueAny,
			Programs: []string{"curl"}, Pattern: `(?s):(?P<secret>.+)`,
		},
		{Name: "aws-configure-set", Flags: []string{"aws_secret_access_key", "aws_session_token"}},
		{Name: "ldap-password", Flags: []string{"-w"}, Value: ValueAny, Programs: ldap},
		{Name: "ldappasswd-password", Flags: []string{"-a", "-s"}, Value: ValueAny, Programs: []string{"ldappasswd"}},
		{Name: "ad-tool-password", Flags: []string{"-p"}, Value: ValueAny, Programs: adTools},
		{
			Name: "samba-user-password", Flags: []string{"-U", "--user"}, Value: ValueAny,
			Programs: samba, Pattern: `(?s)%(?P<secret>.+)`,
		},
		{
			Name: "wbinfo-password", Flags: []string{"-a", "--authenticate"}, Value: ValueAny,
			Programs: []string{"wbinfo"}, Pattern: `(?s)%(?P<secret>.+)`,
		},
		{Name: "impacket-target", Programs: impacket, Pattern: `(?s)^(?:[^/@:]*/)?[^/@:]*:(?P<secret>.+)@[^@]+$`},
		{
			Name: "impacket-hashes", Flags: []string{"--hashes", "--aesKey"},
			Programs: slices.Concat(impacket, []string{"nxc", "netexec", "crackmapexec", "cme", "lsassy", "certipy", "certipy-ad", "evil-winrm"}),
		},

		{Name: "url-userinfo", Pattern: `(?i)\b[a-z][a-z0-9+.-]*://[^/?#@\s:]*:(?P<secret>[^/?#\s]+)@`},
		{
			Name:    "authorization-header",
			Pattern: `(?i)\b(?:proxy-)?authorization["']?\s*:\s*["']?(?:(?:bearer|basic|digest|negotiate|ntlm|token|bot)\s+)?(?P<secret>[^\s'"]+)`,
		},
		{
			Name:    "secret-header",
			Pattern: `(?i)\b(?:x-[a-z0-9-]*(?:api-?key|token|secret|auth)[a-z0-9-]*|api-?key|private-token)["']?\s*:\s*["']?(?P<secret>[^\s'"]+)`,
		},
		{Name: "cookie-header", Pattern: `(?i)\b(?:set-)?cookie["']?\s*:\s*["']?(?P<secret>[^'"\r\n]+)`},
		{
			Name:    "secret-assignment",
			Pattern: `(?i)[\w.-]*(?:passw(?:or)?d|passphrase|secret|token|(?:api|access|private|secret)[_-]?key|mysql_pwd)\d*["']?\s*[:=]\s*(?P<secret>"[^"]*"|'[^']*'|[^\s'"&;|]+)`,
		},
		{Name: "connection-string-password", Pattern: `(?i);\s*(?:password|pwd)\s*=\s*(?P<secret>[^;'"]+)`},
		{Name: "openssl-pass", Pattern: `\bpass:(?P<secret>[^\s'"]+)`},
		{Name: "aws-access-key-id", Pattern: `\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`},
		{Name: "github-token", Pattern: `\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b`},
		{Name: "gitlab-token", Pattern: `\bgl(?:pat|ptt|dt|rt|cbt|oas|ft|imt|agent|wt|soat)-[A-Za-z0-9_-]{20,}`},
		{Name: "slack-token", Pattern: `\bxox[abeoprs]-[A-Za-z0-9-]{10,}`},
		{Name: "slack-webhook", Pattern: `(?i)hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[A-Za-z0-9+/_-]{20,})`},
		{Name: "stripe-key", Pattern: `\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,99}\b`},
		{Name: "google-api-key", Pattern: `\bAIza[A-Za-z0-9_-]{35}`},
		{Name: "npm-token", Pattern: `\bnpm_[A-Za-z0-9]{36}\b`},
		{Name: "pypi-token", Pattern: `\bpypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}`},
		{Name: "vault-token", Pattern: `\bhv[sbr]\.[A-Za-z0-9_-]{24,}`},
		{Name: "ai-api-key", Pattern: `\bsk-(?:ant-(?:api|admin)\d\d|proj|svcacct|admin)-[A-Za-z0-9_-]{20,}`},
		{
			Name:    "private-key",
			Pattern: `-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?P<secret>(?s:.*?))(?:-----END|$)`,
		},
		{Name: "jwt", Pattern: `\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`},
	}
}

// Config is the redaction part of vigil's configuration. User rules add to
// the defaults; a default rule is turned off by naming it in Disable:
//
//	redaction:
//	  disable: [jwt]
//	  rules:
//	    - name: acme-token
//	      pattern: '\bacme_[0-9a-f]{32}\b'
//	    - name: deploy-key
//	      flags: ["--deploy-key"]
//	      programs: [deployctl]
type Config struct {
	// Disable names default rules to leave out.
	Disable []string `yaml:"disable,omitempty"`
	// Rules are used besides the defaults; their names must differ from
	// those of the defaults.
	Rules []Rule `yaml:"rules,omitempty"`
}

// Redactor compiles the default rules, less those disabled, and the
// configured ones. Naming a rule in Disable that is not a default is an
// error, so that a misspelt name does not go unnoticed.
func (c Config) Redactor() (*Redactor, error) {
	rules := Default()
	for _, name := range c.Disable {
		i := slices.IndexFunc(rules, func(r Rule) bool { return r.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("redaction: disable %q: no default rule has that name", name)
		}
		rules = slices.Delete(rules, i, i+1)
	}
	return New(append(rules, c.Rules...))
}

// impacketScripts returns the names of Impacket's example scripts that
// take credentials, as pip installs them (psexec.py) and as Debian and
// Kali do (impacket-psexec).
func impacketScripts() []string {
	var names []string
	for _, s := range []string{
		"addcomputer", "atexec", "changepasswd", "dacledit", "dcomexec", "DumpNTLMInfo", "exchanger",
		"findDelegation", "GetADComputers", "GetADUsers", "getArch", "Get-GPPPassword", "GetLAPSPassword",
		"GetNPUsers", "getPac", "getST", "getTGT", "GetUserSPNs", "goldenPac", "keylistattack", "lookupsid",
		"machine_role", "mimikatz", "mssqlclient", "net", "netview", "owneredit", "psexec", "raiseChild", "rbcd",
		"rdp_check", "reg", "rpcdump", "rpcmap", "samrdump", "secretsdump", "services", "smbclient", "smbexec",
		"smbpasswd", "ticketer", "tstool", "wmiexec", "wmipersist", "wmiquery",
	} {
		names = append(names, s+".py", "impacket-"+s)
	}
	return names
}
