// The fleet rollout's peer: the McpServer reconcile of a workload server on controller-runtime,
// the field's reference controller runtime, for bench/fleet-rollout-vs-controller-runtime.ts only.
// It does what the operator does for an approved workload server, with the same API calls: the
// review gate on the spec hash, the approved revision recorded as a ControllerRevision, then the
// same five children (created, replaced when their applied hash differs), a new Deployment's
// first seconds without a Deploying status, the server's name looked up before it counts as
// verified, and the same status by server-side apply with events for its transitions. It covers
// the fleet's case only (no remote servers, narrowing, rejections, drift views or conflicts).
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap/zapcore"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

const (
	fieldManager      = "toolfleet-operator"
	appliedHash       = "toolfleet.dev/applied-hash"
	policyHash        = "toolfleet.dev/policy-hash"
	serverLabel       = "toolfleet.dev/server"
	revisionHashKey   = "controller-revision-hash"
	deployingDebounce = 5 * time.Second
)

var mcpServerGVK = schema.GroupVersionKind{Group: "toolfleet.dev", Version: "v1alpha1", Kind: "McpServer"}

type settings struct {
	requiredReviews []string
	registryPrefix  string
	clusterDomain   string
	ingress         []string
	verifier        string
}

// canonical is the operator's canonical JSON: keys sorted, no HTML escaping.
func canonical(v any) string {
	var b strings.Builder
	writeCanonical(&b, v)
	return b.String()
}

func writeCanonical(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k, e := range x {
			if e != nil {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			writeCanonical(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, e)
		}
		b.WriteByte(']')
	case string:
		writeString(b, x)
	case nil:
		b.WriteString("null")
	default:
		out, _ := json.Marshal(x)
		b.Write(out)
	}
}

func writeString(b *strings.Builder, s string) {
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.WriteString(strings.TrimSuffix(buf.String(), "\n"))
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func m(v any) map[string]any {
	if r, ok := v.(map[string]any); ok {
		return r
	}
	return map[string]any{}
}

// num reads a JSON number as unstructured objects hold it (int64 or float64).
func num(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

func list(v any) []any {
	if r, ok := v.([]any); ok {
		return r
	}
	return nil
}

// servedSpec is the spec without its reviews, tools by name and access lists sorted.
func servedSpec(spec map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range spec {
		if k != "review" {
			out[k] = v
		}
	}
	tools := append([]any(nil), list(spec["tools"])...)
	sort.SliceStable(tools, func(i, j int) bool { return m(tools[i])["name"].(string) < m(tools[j])["name"].(string) })
	out["tools"] = tools
	access := m(spec["access"])
	out["access"] = map[string]any{"allowedGroups": sortedStrings(access["allowedGroups"]), "allowedServiceAccounts": sortedStrings(access["allowedServiceAccounts"])}
	return out
}

func sortedStrings(v any) []any {
	xs := append([]any(nil), list(v)...)
	sort.Slice(xs, func(i, j int) bool { return xs[i].(string) < xs[j].(string) })
	return xs
}

// specHash covers the served spec but the workload's replicas and resources.
func specHash(spec map[string]any) string {
	s := servedSpec(spec)
	if w, ok := s["workload"].(map[string]any); ok {
		reviewed := map[string]any{}
		for k, v := range w {
			if k != "replicas" && k != "resources" {
				reviewed[k] = v
			}
		}
		s["workload"] = reviewed
	}
	return sha(canonical(s))
}

type reconciler struct {
	client   client.Client
	recorder record.EventRecorder
	cfg      settings
	mu       sync.Mutex
	// uid → the canonical status last written, so a cache that has not caught up costs no second write.
	written map[types.UID]string
}

func ownerRef(s *unstructured.Unstructured) []any {
	return []any{map[string]any{"apiVersion": "toolfleet.dev/v1alpha1", "kind": "McpServer", "name": s.GetName(), "uid": string(s.GetUID()), "controller": true, "blockOwnerDeletion": true}}
}

func labels(name string) map[string]any {
	return map[string]any{"app.kubernetes.io/name": name, "app.kubernetes.io/component": "mcp-server", "app.kubernetes.io/part-of": "toolfleet", "app.kubernetes.io/managed-by": "toolfleet-operator", serverLabel: name}
}

type child struct {
	gvk    schema.GroupVersionKind
	object map[string]any
	hash   string
}

func (r *reconciler) children(s *unstructured.Unstructured, spec map[string]any, replicas float64) []child {
	name, ns := s.GetName(), s.GetNamespace()
	w := m(spec["workload"])
	port := num(w["port"])
	path := w["path"].(string)
	serverURL := fmt.Sprintf("http://%s.%s.svc.%s:%s%s", name, ns, r.cfg.clusterDomain, strconv.FormatFloat(port, 'f', -1, 64), path)
	tools := []any{}
	for _, t := range list(spec["tools"]) {
		tool := map[string]any{}
		for _, k := range []string{"name", "readOnly", "sensitive", "minutesSaved", "allowServiceAccounts", "allowedGroups"} {
			if v, ok := m(t)[k]; ok {
				tool[k] = v
			}
		}
		tools = append(tools, tool)
	}
	policy := canonical(map[string]any{
		"server":   map[string]any{"namespace": ns, "name": name, "registryName": fmt.Sprintf("%s.%s/%s", r.cfg.registryPrefix, ns, name), "path": path},
		"access":   spec["access"],
		"tools":    tools,
		"verifier": r.cfg.verifier,
	})
	selector := map[string]any{serverLabel: name}
	probe := func(p string, period float64) map[string]any {
		return map[string]any{"httpGet": map[string]any{"path": p, "port": "http", "scheme": "HTTP"}, "periodSeconds": period, "timeoutSeconds": 2.0, "failureThreshold": 3.0}
	}
	portStr := strconv.FormatFloat(port, 'f', -1, 64)
	env := append([]any(nil), list(w["env"])...)
	env = append(env,
		map[string]any{"name": "PORT", "value": portStr},
		map[string]any{"name": "TOOLFLEET_POLICY_FILE", "value": "/etc/toolfleet/policy.json"},
		map[string]any{"name": "TOOLFLEET_PUBLIC_URL", "value": strings.TrimSuffix(serverURL, path)},
		map[string]any{"name": "TOOLFLEET_REPLICA_IP", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "status.podIP"}}},
	)
	container := map[string]any{
		"name":            "server",
		"image":           w["image"],
		"ports":           []any{map[string]any{"name": "http", "containerPort": port, "protocol": "TCP"}},
		"env":             env,
		"securityContext": map[string]any{"runAsNonRoot": true, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": map[string]any{"drop": []any{"ALL"}}, "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
		"readinessProbe":  probe("/readyz", 5),
		"livenessProbe":   probe("/healthz", 10),
		"volumeMounts":    []any{map[string]any{"name": "policy", "mountPath": "/etc/toolfleet", "readOnly": true}, map[string]any{"name": "tmp", "mountPath": "/tmp"}},
	}
	if res := m(w["resources"]); res["requests"] != nil || res["limits"] != nil {
		container["resources"] = res
	}
	admitted := map[string]bool{}
	for _, n := range r.cfg.ingress {
		admitted[n] = true
	}
	admitted[strings.SplitN(r.cfg.verifier, "/", 2)[0]] = true
	for _, sa := range list(m(spec["access"])["allowedServiceAccounts"]) {
		admitted[strings.SplitN(sa.(string), "/", 2)[0]] = true
	}
	namespaces := []string{}
	for n := range admitted {
		namespaces = append(namespaces, n)
	}
	sort.Strings(namespaces)
	values := []any{}
	for _, n := range namespaces {
		values = append(values, n)
	}
	build := []struct {
		gvk  schema.GroupVersionKind
		name string
		body map[string]any
	}{
		{corev1.SchemeGroupVersion.WithKind("ServiceAccount"), name, map[string]any{}},
		{corev1.SchemeGroupVersion.WithKind("ConfigMap"), name + "-policy", map[string]any{"data": map[string]any{"policy.json": policy}}},
		{appsv1.SchemeGroupVersion.WithKind("Deployment"), name, map[string]any{"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": selector},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels(name), "annotations": map[string]any{policyHash: sha(policy)}},
				"spec": map[string]any{
					"serviceAccountName": name,
					"securityContext":    map[string]any{"runAsNonRoot": true, "runAsUser": 65532.0, "runAsGroup": 65532.0, "fsGroup": 65532.0, "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
					"containers":         []any{container},
					"volumes":            []any{map[string]any{"name": "policy", "configMap": map[string]any{"name": name + "-policy"}}, map[string]any{"name": "tmp", "emptyDir": map[string]any{}}},
				},
			},
		}}},
		{corev1.SchemeGroupVersion.WithKind("Service"), name, map[string]any{"spec": map[string]any{"type": "ClusterIP", "selector": selector, "ports": []any{map[string]any{"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"}}}}},
		{networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"), name, map[string]any{"spec": map[string]any{
			"podSelector": map[string]any{"matchLabels": selector},
			"policyTypes": []any{"Ingress"},
			"ingress": []any{map[string]any{
				"from": []any{
					map[string]any{"namespaceSelector": map[string]any{"matchExpressions": []any{map[string]any{"key": "kubernetes.io/metadata.name", "operator": "In", "values": values}}}},
					map[string]any{"podSelector": map[string]any{"matchLabels": selector}},
				},
				"ports": []any{map[string]any{"port": port, "protocol": "TCP"}},
			}},
		}}},
	}
	out := make([]child, 0, len(build))
	for _, b := range build {
		apiVersion := b.gvk.Version
		if b.gvk.Group != "" {
			apiVersion = b.gvk.Group + "/" + b.gvk.Version
		}
		obj := map[string]any{"apiVersion": apiVersion, "kind": b.gvk.Kind, "metadata": map[string]any{"name": b.name, "namespace": ns, "labels": labels(name), "ownerReferences": ownerRef(s)}}
		for k, v := range b.body {
			obj[k] = v
		}
		h := sha(canonical(obj))
		m(obj["metadata"])["annotations"] = map[string]any{appliedHash: h}
		out = append(out, child{b.gvk, obj, h})
	}
	return out
}

func condition(t, status, reason, message string, generation int64, previous []any, now string) map[string]any {
	c := map[string]any{"type": t, "status": status, "reason": reason, "message": message, "observedGeneration": generation, "lastTransitionTime": now}
	for _, p := range previous {
		if pc := m(p); pc["type"] == t && pc["status"] == status {
			c["lastTransitionTime"] = pc["lastTransitionTime"]
		}
	}
	return c
}

// live returns the cached object of a child's kind and name, or nil.
func (r *reconciler) live(ctx context.Context, gvk schema.GroupVersionKind, ns, name string) (*unstructured.Unstructured, error) {
	obj, err := r.client.Scheme().New(gvk)
	if err != nil {
		return nil, err
	}
	co := obj.(client.Object)
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, co); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(co)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: raw}, nil
}

func (r *reconciler) write(ctx context.Context, c child, live *unstructured.Unstructured) error {
	u := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(c.object)}
	if live == nil {
		if err := r.client.Create(ctx, u, client.FieldOwner(fieldManager)); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		return nil
	}
	if live.GetAnnotations()[appliedHash] == c.hash {
		return nil
	}
	u.SetUID(live.GetUID())
	u.SetResourceVersion(live.GetResourceVersion())
	return r.client.Update(ctx, u, client.FieldOwner(fieldManager))
}

func (r *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	s := &unstructured.Unstructured{}
	s.SetGroupVersionKind(mcpServerGVK)
	if err := r.client.Get(ctx, req.NamespacedName, s); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if s.GetDeletionTimestamp() != nil {
		return ctrl.Result{}, nil
	}
	spec := m(s.Object["spec"])
	hash := specHash(spec)
	approved := true
	for _, area := range r.cfg.requiredReviews {
		e := m(m(spec["review"])[area])
		if e["decision"] != "Approved" || e["specHash"] != hash {
			approved = false
		}
	}
	if !approved {
		return ctrl.Result{}, nil // the fleet is approved from the start
	}
	ns, name := s.GetNamespace(), s.GetName()
	served := servedSpec(spec)

	// The approved revision first: nothing runs that is not recorded.
	revName := name + "-" + hash[:10]
	revision := &appsv1.ControllerRevision{}
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: revName}, revision); apierrors.IsNotFound(err) {
		lbl := labels(name)
		lbl[revisionHashKey] = hash[:10]
		cr := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "ControllerRevision",
			"metadata": map[string]any{"name": revName, "namespace": ns, "labels": lbl, "ownerReferences": ownerRef(s)},
			"revision": int64(1),
			"data":     map[string]any{"specHash": hash, "spec": runtime.DeepCopyJSONValue(served)},
		}}
		if err := r.client.Create(ctx, cr, client.FieldOwner(fieldManager)); err != nil && !apierrors.IsAlreadyExists(err) {
			return ctrl.Result{}, err
		}
	} else if err != nil {
		return ctrl.Result{}, err
	}

	replicas := num(m(served["workload"])["replicas"])
	children := r.children(s, served, replicas)
	lives := make([]*unstructured.Unstructured, len(children))
	for i, c := range children {
		l, err := r.live(ctx, c.gvk, ns, m(c.object["metadata"])["name"].(string))
		if err != nil {
			return ctrl.Result{}, err
		}
		lives[i] = l
	}
	// What the Deployment mounts, runs as and is fenced by, in parallel; then the Deployment.
	applied := 0
	var wg sync.WaitGroup
	errs := make([]error, len(children))
	for i, c := range children {
		if c.gvk.Kind == "Deployment" {
			continue
		}
		if lives[i] == nil || lives[i].GetAnnotations()[appliedHash] != c.hash {
			applied++
			wg.Add(1)
			go func(i int, c child) { defer wg.Done(); errs[i] = r.write(ctx, c, lives[i]) }(i, c)
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return ctrl.Result{}, err
		}
	}
	var deployment *unstructured.Unstructured
	for i, c := range children {
		if c.gvk.Kind != "Deployment" {
			continue
		}
		deployment = lives[i]
		if lives[i] == nil || lives[i].GetAnnotations()[appliedHash] != c.hash {
			applied++
			if err := r.write(ctx, c, lives[i]); err != nil {
				return ctrl.Result{}, err
			}
		}
	}
	if applied > 0 {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}

	ready, _, _ := unstructured.NestedInt64(deployment.Object, "status", "readyReplicas")
	age := time.Since(deployment.GetCreationTimestamp().Time)
	generation := s.GetGeneration()
	previous := list(m(s.Object["status"])["conditions"])
	now := time.Now().UTC().Format(time.RFC3339)
	registry := fmt.Sprintf("%s.%s/%s", r.cfg.registryPrefix, ns, name)
	w := m(served["workload"])
	serverURL := fmt.Sprintf("http://%s.%s.svc.%s:%s%s", name, ns, r.cfg.clusterDomain, strconv.FormatFloat(num(w["port"]), 'f', -1, 64), w["path"].(string))

	var available, tools map[string]any
	published := false
	phase := "Deploying"
	if ready > 0 {
		available = condition("Available", "True", "MinimumReplicasReady", fmt.Sprintf("%d/%v replicas ready", ready, replicas), generation, previous, now)
		// Verification: the server's name is looked up first; the fleet's do not resolve here.
		host := (&url.URL{Host: strings.TrimPrefix(serverURL, "http://")}).Hostname()
		host = strings.SplitN(host, "/", 2)[0]
		lookupCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := net.DefaultResolver.LookupHost(lookupCtx, host)
		cancel()
		if err != nil {
			tools = condition("ToolsVerified", "Unknown", "Unreachable", fmt.Sprintf("cannot reach %s (ENOTFOUND)", host), generation, previous, now)
		} else {
			tools = condition("ToolsVerified", "Unknown", "NotChecked", "not verified yet", generation, previous, now)
		}
		published = true
		phase = "Published"
	} else {
		if age < deployingDebounce && m(s.Object["status"])["phase"] != "Deploying" {
			return ctrl.Result{RequeueAfter: deployingDebounce - age}, nil
		}
		available = condition("Available", "False", "ReplicasNotReady", fmt.Sprintf("0/%v replicas ready", replicas), generation, previous, now)
		tools = condition("ToolsVerified", "Unknown", "NotAvailable", "tools are verified once the server is available", generation, previous, now)
	}
	var publishedCond, readyCond map[string]any
	if published {
		publishedCond = condition("Published", "True", "Published", fmt.Sprintf("served by the registry as %s (revision %s)", registry, revName), generation, previous, now)
		readyCond = condition("Ready", "True", "Ready", "published and fully rolled out", generation, previous, now)
	} else {
		publishedCond = condition("Published", "False", "NotAvailable", "not served: the server is not available", generation, previous, now)
		readyCond = condition("Ready", "False", "NotPublished", "not served: the server is not available", generation, previous, now)
	}
	conditions := []any{
		condition("Reviewed", "True", "Approved", fmt.Sprintf("%s approved specHash %s", strings.Join(r.cfg.requiredReviews, ", "), hash), generation, previous, now),
		available, tools, publishedCond, readyCond,
		condition("ChangePendingReview", "False", "NoPendingChange", "the current spec is the approved one", generation, previous, now),
		condition("ChildConflict", "False", "NoConflict", "every child is this server's own", generation, previous, now),
	}
	publishedAt := m(m(s.Object["status"])["registry"])["publishedAt"]
	if published && publishedAt == nil {
		publishedAt = now
	}
	reg := map[string]any{"published": published, "name": registry}
	if publishedAt != nil {
		reg["publishedAt"] = publishedAt
	}
	status := map[string]any{
		"observedGeneration": generation,
		"phase":              phase,
		"url":                serverURL,
		"specHash":           hash,
		"review":             map[string]any{"approved": true},
		"approvedRevision":   map[string]any{"name": revName, "revision": int64(1), "specHash": hash},
		"served":             map[string]any{"revision": revName, "specHash": hash, "narrowed": false, "spec": runtime.DeepCopyJSONValue(served)},
		"registry":           reg,
		"conditions":         conditions,
		"readyReplicas":      ready,
	}
	if err := r.writeStatus(ctx, s, status, previous); err != nil {
		return ctrl.Result{}, err
	}
	if !published {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return ctrl.Result{}, nil
}

func (r *reconciler) writeStatus(ctx context.Context, s *unstructured.Unstructured, status map[string]any, previous []any) error {
	text := canonical(runtime.DeepCopyJSONValue(status))
	if text == canonical(runtime.DeepCopyJSONValue(m(s.Object["status"]))) {
		return nil
	}
	r.mu.Lock()
	same := r.written[s.GetUID()] == text
	r.mu.Unlock()
	if same {
		return nil
	}
	body := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "toolfleet.dev/v1alpha1", "kind": "McpServer", "metadata": map[string]any{"name": s.GetName(), "namespace": s.GetNamespace()}, "status": runtime.DeepCopyJSONValue(status)}}
	if err := r.client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(body), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		return err
	}
	r.mu.Lock()
	r.written[s.GetUID()] = text
	r.mu.Unlock()
	old := map[string]map[string]any{}
	for _, p := range previous {
		old[fmt.Sprint(m(p)["type"])] = m(p)
	}
	for _, c := range list(status["conditions"]) {
		cm := m(c)
		o := old[cm["type"].(string)]
		if cm["type"] == "Ready" || (o != nil && o["status"] == cm["status"] && o["reason"] == cm["reason"]) {
			continue
		}
		kind := corev1.EventTypeNormal
		if o != nil && o["status"] == "True" && cm["status"] != "True" {
			kind = corev1.EventTypeWarning
		}
		r.recorder.Event(s, kind, cm["reason"].(string), fmt.Sprintf("%s=%s: %s", cm["type"], cm["status"], cm["message"]))
	}
	return nil
}

func main() {
	var namespace, reviews, userAgent string
	var qps float64
	var concurrency int
	flag.StringVar(&namespace, "namespace", "", "the one namespace watched")
	flag.StringVar(&reviews, "required-reviews", "security", "comma-separated review areas")
	flag.StringVar(&userAgent, "user-agent", "controller-runtime-peer", "user agent, as the audit log shows it")
	flag.Float64Var(&qps, "kube-api-qps", 50, "client QPS (burst: twice as many)")
	flag.IntVar(&concurrency, "concurrency", 16, "reconciles at once")
	flag.Parse()
	if namespace == "" {
		fmt.Fprintln(os.Stderr, "--namespace is required")
		os.Exit(2)
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(false), zap.Level(zapcore.WarnLevel)))
	// --kubeconfig (or KUBECONFIG) is controller-runtime's own flag.
	cfg, err := ctrl.GetConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubeconfig: %v\n", err)
		os.Exit(1)
	}
	cfg.QPS = float32(qps)
	cfg.Burst = int(qps * 2)
	cfg.UserAgent = userAgent
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{namespace: {}}, DefaultTransform: cache.TransformStripManagedFields()},
		// McpServers are unstructured: read them from the cache too, as the operator does.
		Client: client.Options{Cache: &client.CacheOptions{Unstructured: true}},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		os.Exit(1)
	}
	r := &reconciler{
		client:   mgr.GetClient(),
		recorder: mgr.GetEventRecorderFor("toolfleet-operator"), //nolint:staticcheck // core/v1 Events, as the operator records them
		written:  map[types.UID]string{},
		cfg: settings{
			requiredReviews: strings.Split(reviews, ","),
			registryPrefix:  "dev.toolfleet.local",
			clusterDomain:   "cluster.local",
			ingress:         []string{"toolfleet-system"},
			verifier:        "toolfleet-system/toolfleet-operator",
		},
	}
	server := &unstructured.Unstructured{}
	server.SetGroupVersionKind(mcpServerGVK)
	err = ctrl.NewControllerManagedBy(mgr).
		For(server).
		Owns(&corev1.ServiceAccount{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&appsv1.ControllerRevision{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
	if err != nil {
		fmt.Fprintf(os.Stderr, "controller: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "started")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		os.Exit(1)
	}
}
