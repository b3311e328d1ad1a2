package exporter

// A signal's connection, every setting resolved: what vigil's settings
// say, else the signal's OTEL_EXPORTER_OTLP_<SIGNAL>_* variable, else the
// OTEL_EXPORTER_OTLP_* one, else the specification's default. vigil
// resolves them itself, once, for its own senders and the metric
// exporter alike, and says which variable is wrong rather than ignoring
// it.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults of the OTLP exporter specification.
const (
	defaultEndpoint = "localhost:4317"
	defaultTimeout  = 10 * time.Second
)

// connection is where and how one signal's requests go.
type connection struct {
	// target is what grpc.NewClient dials: host:port, or a unix: address.
	target string
	// plain is a connection without TLS.
	plain bool
	// tls secures the connection unless plain; nil trusts the system's
	// certificate authorities.
	tls     *tls.Config
	headers map[string]string
	// timeout bounds each request.
	timeout time.Duration
	gzip    bool
}

// resolve returns the connection of the signal whose settings are s;
// signal names it in the variables: LOGS, TRACES or METRICS.
func resolve(s OTLPConnection, signal string) (connection, error) {
	env := func(name string) (string, string) {
		for _, v := range []string{"OTEL_EXPORTER_OTLP_" + signal + "_" + name, "OTEL_EXPORTER_OTLP_" + name} {
			if val := os.Getenv(v); val != "" {
				return v, val
			}
		}
		return "", ""
	}
	c := connection{timeout: defaultTimeout}
	var errs []error

	endpoint, fromVar := s.Endpoint, ""
	if endpoint == "" {
		fromVar, endpoint = env("ENDPOINT")
	}
	insecureVar, insecure := env("INSECURE")
	if insecure != "" && !strings.EqualFold(insecure, "true") && !strings.EqualFold(insecure, "false") {
		errs = append(errs, fmt.Errorf("%s=%q: want true or false", insecureVar, insecure))
	}
	c.plain = strings.EqualFold(insecure, "true")
	c.target = defaultEndpoint
	if endpoint != "" {
		target, scheme, err := parseEndpoint(endpoint, fromVar != "")
		switch {
		case err != nil:
			errs = append(errs, settingError(fromVar, "endpoint", endpoint, err))
		case scheme != "":
			// The scheme decides, over the variables: http is plain text.
			c.plain = scheme != "https"
		}
		c.target = target
	}
	if s.Insecure != nil {
		// A setting beats the variables; false keeps a plain http://
		// endpoint plain, as the endpoint says so itself.
		c.plain = *s.Insecure || (c.plain && strings.HasPrefix(endpoint, "http://"))
	}

	c.headers = s.Headers
	if c.headers == nil {
		if name, v := env("HEADERS"); v != "" {
			h, err := parseHeaders(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			c.headers = h
		}
	}

	if s.Timeout > 0 {
		c.timeout = s.Timeout
	} else if name, v := env("TIMEOUT"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a number of milliseconds", name, v))
		} else {
			c.timeout = time.Duration(ms) * time.Millisecond
		}
	}

	compression, name := s.Compression, ""
	if compression == "" {
		name, compression = env("COMPRESSION")
	}
	if compression != "" {
		if err := CheckCompression(compression); err != nil {
			errs = append(errs, settingError(name, "compression", compression, err))
		}
	}
	c.gzip = compression == "gzip"

	c.tls = s.TLS
	if c.tls == nil {
		t, err := tlsFromEnv(env)
		if err != nil {
			errs = append(errs, err)
		}
		c.tls = t
	}
	if err := errors.Join(errs...); err != nil {
		return connection{}, fmt.Errorf("OTLP %s settings: %w", strings.ToLower(signal), err)
	}
	return c, nil
}

// exampleEndpoint stands for the receiver in the errors about an endpoint
// that names none.
const exampleEndpoint = "collector:4317"

// CheckEndpoint checks an endpoint that vigil's own settings give (the
// configuration file, --otlp-endpoint): a URL whose scheme says whether
// the connection is plain text (http) or TLS (https).
func CheckEndpoint(endpoint string) error {
	_, _, err := parseEndpoint(endpoint, false)
	return err
}

// parseEndpoint reads an endpoint into what grpc.NewClient dials and the
// scheme that decides TLS. vigil's own settings name a scheme; an
// OTEL_EXPORTER_OTLP_*ENDPOINT variable (fromVar) may also give a unix://
// address or any of the forms gRPC dials without a scheme, such as
// host:port, as the specification has the variables take them: its
// scheme is then empty, and OTEL_EXPORTER_OTLP_INSECURE decides TLS.
func parseEndpoint(endpoint string, fromVar bool) (target, scheme string, err error) {
	if !strings.Contains(endpoint, "://") {
		if fromVar {
			return strings.TrimPrefix(endpoint, "//"), "", nil
		}
		return "", "", endpointWant(endpoint, fromVar)
	}
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
		return u.Host, u.Scheme, nil
	case fromVar && u.Scheme == "unix" && u.Path != "":
		return endpoint, u.Scheme, nil
	default:
		endpoint = u.Host
	}
	return "", "", endpointWant(endpoint, fromVar)
}

// endpointWant says what an endpoint should have been, with the receiver
// of the one given, host:port, when it names one.
func endpointWant(hostPort string, fromVar bool) error {
	if hostPort == "" || strings.ContainsAny(hostPort, "/ ") {
		hostPort = exampleEndpoint
	}
	want := fmt.Sprintf("want a URL such as http://%s (plain text) or https://%s (TLS)", hostPort, hostPort)
	if fromVar {
		want += ", or host:port"
	}
	return errors.New(want)
}

// CheckCompression checks a compression setting.
func CheckCompression(compression string) error {
	if compression != "gzip" && compression != "none" {
		return errors.New("want one of gzip, none")
	}
	return nil
}

// settingError names the variable, or else the setting, whose value is
// wrong.
func settingError(variable, setting, value string, err error) error {
	if variable != "" {
		return fmt.Errorf("%s=%q: %w", variable, value, err)
	}
	return fmt.Errorf("%s %q: %w", setting, value, err)
}

// parseHeaders reads the variables' headers: key=value pairs apart by
// commas, values percent-encoded.
func parseHeaders(s string) (map[string]string, error) {
	out := make(map[string]string)
	for pair := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || !validHeaderKey(k) {
			return nil, fmt.Errorf("header %q: want key=value with a token key", pair)
		}
		val, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("header %q: %w", k, err)
		}
		out[k] = strings.TrimSpace(val)
	}
	return out, nil
}

// validHeaderKey says whether k is an HTTP token.
func validHeaderKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range []byte(k) {
		ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// tlsFromEnv builds the TLS configuration the certificate variables
// name; nil when they name none.
func tlsFromEnv(env func(string) (string, string)) (*tls.Config, error) {
	caVar, ca := env("CERTIFICATE")
	certVar, cert := env("CLIENT_CERTIFICATE")
	keyVar, key := env("CLIENT_KEY")
	if certVar == "" || keyVar == "" {
		certVar, keyVar = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_KEY"
	}
	if ca == "" && cert == "" && key == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", caVar, err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: %s holds no PEM certificate", caVar, ca)
		}
	}
	if (cert == "") != (key == "") {
		return nil, fmt.Errorf("%s and %s go together: set both or neither", certVar, keyVar)
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%s, %s: %w", certVar, keyVar, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
