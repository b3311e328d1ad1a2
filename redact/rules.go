// This file is one job: the built-in rules, one table; kept whole so
// that they read as one list, each with the options it stands for.

package redact

import (
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
//     private-key, storepass, keypass (--db-password, --access-token,
//     --ftp-password, gpg's --passphrase, keytool's and jarsigner's
//     -storepass, -keypass, -srcstorepass, -deststorepass; not
//     --password-file, nor keytool's -storepass:env NAME), with one dash
//     or two, in any case, "_" for "-", as --password=VALUE or
//     --password VALUE. A next argument that is itself such an option is
//     not taken for the value: in keytool -storepasswd -storepass VALUE,
//     VALUE goes.
//   - mysql-password: -pVALUE for mysql, mysqladmin, mysqldump,
//     mysqlimport, mysqlshow, mysqlcheck, mysqlbinlog, mysqlpump, mysqlsh,
//     mariadb, mariadb-admin, mariadb-dump, mariadb-import. Only attached:
//     a lone -p makes them prompt, and the next argument is the database.
//     Also after options without a value, as in mysql -Nsp VALUE.
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
//     -U and --proxy-user (the user stays), and in -E, --cert and
//     --proxy-cert certificate:password; also bundled after curl's
//     options without a value, as in curl -su user:password and
//     curl -fsSLu user:password.
//   - curl-cookie: the values of the cookies given to curl -b and
//     --cookie (NAME=VALUE; NAME2=VALUE2), not a cookie file's name.
//   - aws-configure-set: the value after the words aws_secret_access_key
//     and aws_session_token, as in aws configure set aws_secret_access_key
//     VALUE.
//   - ldap-password: -w VALUE or -wVALUE for OpenLDAP's clients
//     (ldapsearch, ldapadd, ldapmodify, ldapdelete, ldapmodrdn,
//     ldapcompare, ldapwhoami, ldappasswd, ldapexop, ldapvc), and -a and
//     -s (the old and new passwords) for ldappasswd, also bundled after
//     their options without a value (ldapsearch -xw VALUE). Elsewhere -w
//     is something else (wc -w, grep -w) and stays; -y FILE names a file
//     and stays.
//   - zip-password, unzip-password: zip -P VALUE and unzip -P VALUE, also
//     -PVALUE, -P=VALUE and bundled (zip -rP VALUE, unzip -oP VALUE).
//   - 7z-password: 7-Zip's -pVALUE (7z, 7za, 7zr, 7zz, 7zzs; its switches
//     ignore case). A lone -p prompts.
//   - rar-password, rar-header-password: rar's and unrar's -pVALUE and
//     -hpVALUE; -p- (no password) stays.
//   - openssl-key: openssl's -k VALUE (the password of enc) and -K VALUE
//     (the key itself, in hex). -kfile FILE stays; pass:VALUE is the
//     openssl-pass pattern's.
//   - keytool-new-password: keytool's -new VALUE (-storepasswd,
//     -keypasswd).
//   - ssh-keygen-passphrase: ssh-keygen -N VALUE and -P VALUE (new and
//     old passphrases), also -NVALUE and bundled (ssh-keygen -qN VALUE).
//   - htpasswd-password: with -b, the last argument of htpasswd (-b FILE
//     USER PASSWORD, -nbB USER PASSWORD) and mosquitto_passwd (-b FILE
//     USER PASSWORD).
//   - ipmitool-password: ipmitool's -P VALUE, -k KEY and -y HEXKEY.
//   - doctl-token: doctl -t VALUE (--access-token is secret-flags').
//   - mount-password: in the options of mount, mount.cifs, mount.smb3
//     and smbmount (-o OPTIONS), the values of pass= and password= and
//     the password in user=NAME%PASSWORD and username=NAME%PASSWORD.
//   - oracle-login: the password in USER/PASSWORD[@DB] (and
//     userid=USER/PASSWORD) given to sqlplus, sqlldr, expdp, impdp, rman
//     and dgmgrl. sqlplus / as sysdba and @script.sql stay.
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
//     scheme (https, git, postgres, mysql, redis, amqp, ...); and the user
//     name of scheme://NAME@host when it looks like a token rather than a
//     person or a service: 20 characters or more of letters, digits and
//     _~+=%-, and no dot (https://TOKEN@github.com). git@, deploy-bot@ and
//     first.last@ stay.
//   - url-query-secret: the value of a query parameter whose name is sig,
//     pwd, pass, auth or ends in signature: the signatures of signed URLs
//     (X-Amz-Signature, X-Goog-Signature, Signature, Azure SAS sig).
//     Parameters named like secrets (access_token, X-Amz-Security-Token,
//     password, api_key, ...) are secret-assignment's, in a URL or not.
//   - authorization-header: the credentials after Authorization: or
//     Proxy-Authorization:, keeping a Bearer, Basic, Digest, Negotiate,
//     NTLM, Token or Bot scheme; as in curl -H 'Authorization: Bearer …'.
//   - secret-header: the value of X-…-Api-Key, X-…-Token, X-…-Secret,
//     X-…-Auth…, Api-Key and Private-Token headers (not a URL's user name
//     such as https://x-access-token:…@).
//   - cookie-header: the value of Cookie: and Set-Cookie: headers.
//   - secret-assignment: the value in NAME=value or NAME: value where NAME
//     ends in password, passwd, passphrase, secret, token, api_key, apikey,
//     access_key, private_key, secret_key (in any case, "-" or "_" or
//     nothing before key) or is MYSQL_PWD: env-style arguments
//     (DB_PASSWORD=…, docker run -e, make TOKEN=…), assignments in sh -c
//     scripts, libpq and JDBC strings (password=…), JSON ("token": "…").
//     A quoted value is replaced with its quotes. TOKEN_FILE=/path stays,
//     and so does a URL's user name (https://x-access-token:VALUE@host
//     keeps its host: VALUE is url-userinfo's).
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
// Not covered: secrets of no known format in positional arguments of
// other programs (cf auth USER PASSWORD, samba-tool user create USER
// PASSWORD, net rpc user add USER PASSWORD, smbclient //HOST/SHARE
// PASSWORD, vault login TOKEN); a token as a URL's user name shorter than
// 20 characters or with a dot; values split by the shell in unusual ways;
// a one-letter flag bundled after options of a program whose rule has no
// Bundle. sshpass -p also hides the -p of the command it runs (ssh -p
// 2222, a port).
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
	sevenZip := []string{"7z", "7za", "7zr", "7zz", "7zzs"}
	rar := []string{"rar", "unrar"}
	mount := []string{"mount", "mount.cifs", "mount.smb3", "smbmount"}
	oracle := []string{"sqlplus", "sqlldr", "expdp", "impdp", "rman", "dgmgrl"}
	// The one-letter options that take no value, which getopt lets come
	// before -u or -w in one argument: curl -su, ldapsearch -xw.
	const (
		curlBundle = "012346:#BGIJLMNORSVZafgijklnpqsv"
		ldapBundle = "ACILMNQVWZcnrtuvx"
	)
	return []Rule{
		{Name: "secret-flags", Flags: []string{
			"--*password", "--*passwd", "--pass", "--*passphrase", "--*secret", "--*token",
			"--*api-key", "--*apikey", "--*access-key", "--*secret-key", "--*private-key", "--oauth2-bearer",
			"--*storepass", "--*keypass",
		}},
		{Name: "mysql-password", Flags: []string{"-p"}, Value: ValueAttached, Programs: mysql, Bundle: "ABCEHNQVXcfilnqstvx"},
		{Name: "sshpass-password", Flags: []string{"-p"}, Value: ValueAny, Programs: []string{"sshpass"}},
		{Name: "login-password", Flags: []string{"-p"}, Value: ValueAny, Programs: []string{
			"docker login", "podman login", "buildah login", "nerdctl login", "skopeo login", "oras login",
			"crane auth login", "helm registry login", "az login", "oc login", "cf login",
		}},
		{Name: "redis-cli-password", Flags: []string{"-a"}, Value: ValueAny, Programs: []string{"redis-cli"}},
		{Name: "mongo-password", Flags: []string{"-p"}, Value: ValueAny, Programs: mongo},
		{Name: "sqlcmd-password", Flags: []string{"-P"}, Value: ValueAny, Programs: []string{"sqlcmd", "bcp"}},
		{
			Name: "curl-user", Flags: []string{"-u", "--user", "-U", "--proxy-user", "-E", "--cert", "--proxy-cert"},
			Value: ValueAny, Programs: []string{"curl"}, Pattern: `(?s):(?P<secret>.+)`, Bundle: curlBundle,
		},
		{
			Name: "curl-cookie", Flags: []string{"-b", "--cookie"}, Value: ValueAny, Programs: []string{"curl"},
			Pattern: `=(?P<secret>[^;]+)`, Bundle: curlBundle,
		},
		{Name: "aws-configure-set", Flags: []string{"aws_secret_access_key", "aws_session_token"}},
		{Name: "ldap-password", Flags: []string{"-w"}, Value: ValueAny, Programs: ldap, Bundle: ldapBundle},
		{
			Name: "ldappasswd-password", Flags: []string{"-a", "-s"}, Value: ValueAny,
			Programs: []string{"ldappasswd"}, Bundle: ldapBundle,
		},
		{Name: "zip-password", Flags: []string{"-P"}, Value: ValueAny, Programs: []string{"zip"}, Bundle: "0123456789ADFJLRSTXcdefghjklmoqruvyz@$"},
		{Name: "unzip-password", Flags: []string{"-P"}, Value: ValueAny, Programs: []string{"unzip"}, Bundle: "8BCDKLMNTUVWXZabcfjlnopqstuvz"},
		{Name: "7z-password", Flags: []string{"-p", "-P"}, Value: ValueAttached, Programs: sevenZip},
		{Name: "rar-password", Flags: []string{"-p", "-P"}, Value: ValueAttached, Programs: rar, Pattern: `(?s)^(?P<secret>[^-].*|-.+)$`},
		{Name: "rar-header-password", Flags: []string{"-h", "-H"}, Value: ValueAttached, Programs: rar, Pattern: `(?s)^[pP](?P<secret>.+)$`},
		{Name: "openssl-key", Flags: []string{"-k", "-K"}, Programs: []string{"openssl"}},
		{Name: "keytool-new-password", Flags: []string{"-new"}, Programs: []string{"keytool"}},
		{
			Name: "ssh-keygen-passphrase", Flags: []string{"-N", "-P"}, Value: ValueAny,
			Programs: []string{"ssh-keygen"}, Bundle: "ABHKLQUXceghiklopquvy",
		},
		{Name: "htpasswd-password", Flags: []string{"-b"}, Value: ValueLast, Programs: []string{"htpasswd", "mosquitto_passwd"}, Bundle: "25BDcdimnpsv"},
		{Name: "ipmitool-password", Flags: []string{"-P", "-k", "-y"}, Value: ValueAny, Programs: []string{"ipmitool"}},
		{Name: "doctl-token", Flags: []string{"-t"}, Value: ValueAny, Programs: []string{"doctl"}},
		{
			Name: "mount-password", Flags: []string{"-o", "--options"}, Value: ValueAny, Programs: mount,
			Pattern: `(?i)(?:^|,)(?:pass(?:word)?=|user(?:name)?=[^,%]*%)(?P<secret>(?:[^,]|,,)+)`,
		},
		{Name: "oracle-login", Programs: oracle, Pattern: `^(?:(?i)userid=)?[^/@\s=]+/(?P<secret>[^@\s]+)`},
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

		{
			Name:    "url-userinfo",
			Pattern: `(?i)\b[a-z][a-z0-9+.-]*://(?:[^/?#@\s:]*:(?P<secret>[^/?#\s]+)|(?P<secret>[a-z0-9_~+=%-]{20,}))@`,
		},
		{Name: "url-query-secret", Pattern: `(?i)[?&](?:[a-z0-9_.-]*signature|sig|pwd|pass|auth)=(?P<secret>[^&#\s'"]+)`},
		{
			Name:    "authorization-header",
			Pattern: `(?i)\b(?:proxy-)?authorization["']?\s*:\s*["']?(?:(?:bearer|basic|digest|negotiate|ntlm|token|bot)\s+)?(?P<secret>[^\s'"]+)`,
		},
		{
			Name:    "secret-header",
			Pattern: `(?i)(?:^|[^\w/])(?:x-[a-z0-9-]*(?:api-?key|token|secret|auth)[a-z0-9-]*|api-?key|private-token)["']?\s*:\s*["']?(?P<secret>[^\s'"]+)`,
		},
		{Name: "cookie-header", Pattern: `(?i)\b(?:set-)?cookie["']?\s*:\s*["']?(?P<secret>[^'"\r\n]+)`},
		{
			Name:    "secret-assignment",
			Pattern: `(?i)(?:^|[^\w./-])[\w.-]*(?:passw(?:or)?d|passphrase|secret|token|(?:api|access|private|secret)[_-]?key|mysql_pwd)\d*["']?\s*[:=]\s*(?P<secret>"[^"]*"|'[^']*'|[^\s'"&;|]+)`,
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
