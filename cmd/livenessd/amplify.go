package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/livenessd/livenessd"
	"github.com/livenessd/livenessd/internal/amplify"
	"github.com/livenessd/livenessd/internal/amplify/sigv4"
	"github.com/livenessd/livenessd/internal/api"
	"github.com/livenessd/livenessd/internal/models"
	"github.com/livenessd/livenessd/internal/tlsutil"
)

// amplifyFlags are the serve flags of the Amplify endpoint and of TLS,
// which the Amplify component requires (it always connects with wss://).
type amplifyFlags struct {
	Enabled       bool
	Keys          string
	AllowNoToken  bool
	Origins       string
	TLSCert       string
	TLSKey        string
	TLSSelfSigned bool
	TLSHosts      string
}

func registerAmplifyFlags(e *envFlags, c *amplifyFlags) {
	e.boolean(&c.Enabled, "amplify", "LIVENESS_AMPLIFY", true,
		"serve the AWS Amplify FaceLivenessDetector endpoint "+amplify.Path+" and its model/wasm assets under "+amplify.AssetsPrefix)
	e.str(&c.Keys, "amplify-keys", "LIVENESS_AMPLIFY_KEYS", "",
		"SigV4 credentials ACCESS_KEY_ID:SECRET:TENANT,... (TENANT as `livenessd keys` lists it); when set, every Amplify stream must be signed by a key of the session's tenant")
	e.boolean(&c.AllowNoToken, "amplify-allow-no-token", "LIVENESS_AMPLIFY_ALLOW_NO_TOKEN", false,
		"without --amplify-keys, accept Amplify streams that carry no clientToken (the session id alone authorises them)")
	e.str(&c.Origins, "amplify-origins", "LIVENESS_AMPLIFY_ORIGINS", "",
		"comma-separated page origins allowed to open the Amplify WebSocket (host patterns); empty allows any")
	e.str(&c.TLSCert, "tls-cert", "LIVENESS_TLS_CERT", "", "PEM certificate chain: serve HTTPS and WSS")
	e.str(&c.TLSKey, "tls-key", "LIVENESS_TLS_KEY", "", "PEM private key of --tls-cert")
	e.boolean(&c.TLSSelfSigned, "tls-self-signed", "LIVENESS_TLS_SELF_SIGNED", false,
		"serve HTTPS with a self-signed development certificate (ECDSA, cached in the data directory)")
	e.str(&c.TLSHosts, "tls-hosts", "LIVENESS_TLS_HOSTS", strings.Join(tlsutil.DefaultHosts, ","),
		"DNS names and IP addresses of the self-signed certificate")
}

// listenTLS wraps ln with TLS when a certificate is configured and returns
// the URL scheme to advertise. Either way net/http's own error answers
// (431...) get the API's error body (api.Server.Listener).
func listenTLS(cfg serveConfig, ln net.Listener, log *slog.Logger, srv *api.Server) (net.Listener, string, error) {
	a := cfg.Amplify
	if a.TLSCert == "" && a.TLSKey == "" && !a.TLSSelfSigned {
		return srv.Listener(ln), "http", nil
	}
	tc, selfSigned, err := tlsutil.Load(tlsutil.Config{
		CertFile: a.TLSCert, KeyFile: a.TLSKey, SelfSigned: a.TLSSelfSigned,
		Dir: cfg.DataDir, Hosts: splitList(a.TLSHosts),
	})
	if err != nil {
		ln.Close()
		return nil, "", fmt.Errorf("%w: %v", errUsage, err)
	}
	if selfSigned != "" {
		log.Warn("serving TLS with a self-signed development certificate; browsers must trust it (or use mkcert / a real certificate)",
			"certificate", selfSigned)
	}
	return srv.TLSListener(ln, tc), "https", nil
}

// mountAmplify mounts the Amplify streaming endpoint, the component's
// model and WASM assets, and the AWS-shaped results route.
func mountAmplify(env *mountEnv) error {
	a := env.Config.Amplify
	if !a.Enabled {
		return nil
	}
	var keys sigv4.Keys
	if a.Keys != "" {
		k, err := parseAmplifyKeys(a.Keys)
		if err != nil {
			return fmt.Errorf("%w: --amplify-keys: %v", errUsage, err)
		}
		keys = k
	}
	cfg := amplify.Config{
		Captures:          env.Sessions,
		Observer:          env.Pipeline,
		Liveness:          env.Config.livenessConfig(),
		Keys:              keys,
		AllowNoToken:      a.AllowNoToken,
		OriginPatterns:    splitList(a.Origins),
		WriteError:        env.Server.WriteError,
		Addresses:         env.Addresses,
		AuthFailures:      env.AuthFailures,
		StreamsPerAddress: streamsPerAddress(env.Config.StreamsPerAddress),
		Logger:            env.Logger,
	}
	if env.Pool != nil {
		cfg.Acquire = env.Pool.Acquire
	}
	if env.Admission != nil {
		cfg.Admission, cfg.Frames = env.Admission, env.Admission
	}
	cfg.Outcomes = env.Outcomes
	h, err := amplify.New(cfg)
	if err != nil {
		return err
	}
	assets, err := amplify.NewAssetHandler(models.NewCache(env.Config.ModelsDir))
	if err != nil {
		return err
	}
	env.Server.Handle("GET "+amplify.Path, refuseWhileDraining(env.Server, h))
	env.OnShutdown(func(ctx context.Context) error { return h.Shutdown(ctx) })
	env.Server.Handle(amplify.AssetsPrefix, assets)
	env.Server.Handle("GET /v1/liveness/session/{sessionId}/aws-results", env.Server.RequireAPIKey(awsResultsHandler(env)))
	mode := "clientToken"
	switch {
	case keys != nil:
		mode = "sigv4"
	case a.AllowNoToken:
		mode = "clientToken or session id alone"
	}
	env.Logger.Info("amplify endpoint enabled", "path", amplify.Path, "auth", mode,
		"faceModelUrl", amplify.ModelURLPath, "binaryPath", amplify.WasmURLPath)
	return nil
}

// parseAmplifyKeys reads ACCESS_KEY_ID:SECRET:TENANT,... (the secret may
// not contain ':' or ',').
func parseAmplifyKeys(s string) (sigv4.StaticKeys, error) {
	var creds []sigv4.Credential
	for _, item := range splitList(s) {
		parts := strings.Split(item, ":")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, errors.New("want ACCESS_KEY_ID:SECRET:TENANT entries separated by commas")
		}
		creds = append(creds, sigv4.Credential{AccessKeyID: parts[0], Secret: parts[1], Tenant: parts[2]})
	}
	if len(creds) == 0 {
		return nil, errors.New("no credentials")
	}
	return sigv4.NewStaticKeys(creds...)
}

// awsResultsHandler answers GET /v1/liveness/session/{sessionId}/aws-results
// with the GetFaceLivenessSessionResults shape, for app backends written
// against AWS. Errors use AWS's shape too ({"__type", "Message"}).
func awsResultsHandler(env *mountEnv) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, _ := api.TenantFromContext(r.Context())
		sess, err := env.Sessions.Get(r.Context(), tenant, r.PathValue("sessionId"))
		if err != nil {
			status, typ, msg := http.StatusInternalServerError, "InternalServerError", "Internal server error"
			if errors.Is(err, livenessd.ErrSessionNotFound) {
				status, typ, msg = http.StatusBadRequest, "SessionNotFoundException", "Occurs when the given sessionId is not found"
			} else {
				env.Logger.Error("aws-results", "err", err)
			}
			writeAWSJSON(w, status, map[string]string{"__type": typ, "Message": msg})
			return
		}
		if env.Sessions.Purged(sess) && sess.Result != nil {
			res := *sess.Result
			res.ReferenceImage, res.AuditImages = nil, nil
			sess.Result = &res
		}
		writeAWSJSON(w, http.StatusOK, amplify.AWSResults(sess))
	})
}

func writeAWSJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
