#!/usr/bin/env python3
"""Checks of the Helm chart in helm/genai-cost-agent, offline, without a helm binary or a cluster.

1. Lints the chart strictly (Helm's own linter through helm-python-sdk, Kubernetes 1.30).
2. Renders it with default values and with every option on (DaemonSet and gateway modes), and
   validates every manifest strictly against the Kubernetes 1.30 schemas (kubernetes-validate).
   ServiceMonitor, PrometheusRule and cert-manager's Certificate are custom resources, absent from
   those schemas: their structure is checked here, minimally.
3. Checks what the chart promises: probes on /healthz and /readyz, the listen ports of the
   rendered agent configuration match the container ports, hostPorts, Services, the security
   context, the grace period against the agent's drain deadline, the checksum annotation.
   With receiver security on: the token and certificate Secrets are mounted as directories (no
   subPath) where the config looks for them, the NetworkPolicy selects the agent's pods and opens
   exactly the configured ports to the configured peers, the probes stay on the telemetry port.
4. Feeds each rendered agent configuration to `genai-cost-agent validate --config FILE`, with the
   mounted Secrets' files laid out locally as the kubelet does (the chart's own Secret as rendered;
   an existing one made up: a token file, certificates of a throwaway CA made with `cryptography`).
   With tokens on, starts the agent with that configuration and checks 401 / 200 over TLS (client
   certificates, the lowest TLS version), a rotated token Secret taking effect, /readyz open.
5. Runs `promtool check rules` on the rendered PrometheusRule, and `promtool test rules` on
   generated series for some alerts; checks the dashboard's queries parse (as rules).
6. Starts the agent (debug build) on 127.0.0.1, sends it GenAI spans over OTLP/HTTP JSON,
   scrapes its two /metrics endpoints, and checks that every metric name (and label) the alerts
   and the dashboard query is one the agent really emits.

Installs nothing. Needs: `pip install -r ci/requirements-helm.txt` (cryptography included),
promtool (Debian package `prometheus`), cargo (builds target/debug/genai-cost-agent only when it
is missing; honours CARGO_TARGET_DIR). Exits non-zero with a message on the first failure.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "helm" / "genai-cost-agent"
KUBE_VERSION = "1.30"
RELEASE = "gca"
NAMESPACE = "observability"
TIME_LIMIT_SECONDS = 300  # everything but a first `cargo build`

try:
    import yaml
    import helm_python as helm
    import cryptography  # noqa: F401  (test certificates)
    from kubernetes_validate import utils as kube_validate
except ImportError as missing:  # pragma: no cover - message for a machine without the tools
    sys.exit(f"helm_checks: {missing}; run `pip install -r ci/requirements-helm.txt` first")


class CheckFailed(Exception):
    pass


def fail(message: str) -> None:
    raise CheckFailed(message)


PASSED = [0]


def ok(message: str) -> None:
    PASSED[0] += 1
    print(f"  ok  {message}", flush=True)


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# --------------------------------------------------------------------------------------------
# Scenarios: default values, and every option on in both modes.

ALL_ON_COMMON: dict[str, Any] = {
    "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"},
                       "metricRelabelings": [{"action": "drop", "sourceLabels": ["__name__"],
                                              "regex": "genai_cost_agent_hold_.*"}]},
    "prometheusRule": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
    "dashboard": {"enabled": True, "annotations": {"grafana_folder": "GenAI"}},
    "config": {
        "exporters": {"otlp": {
            "endpoint": "http://otel-collector.observability:4317",
            "headers": {"authorization": "Bearer ${env:BACKEND_TOKEN}"},
        }},
        "metrics": {
            "attribution": {"keys": ["user.id", "team", "feature"]},
            "cost_thresholds": ["0.05", "1.00"],
            "prometheus": {"enabled": True},
        },
        "service": {"shutdown_timeout": "15s"},
    },
    "terminationGracePeriodSeconds": 40,
    "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
    "extraEnv": [{"name": "BACKEND_TOKEN", "valueFrom": {"secretKeyRef": {"name": "backend", "key": "token"}}}],
    "extraEnvFrom": [{"configMapRef": {"name": "agent-extra", "optional": True}}],
    "extraArgs": ["--set", "metrics.interval=30s"],
    "extraVolumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "16Mi"}}],
    "extraVolumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
    "imagePullSecrets": [{"name": "registry"}],
    "image": {"repository": "registry.example.com/genai-cost-agent", "tag": "0.1.0"},
    "podAnnotations": {"example.com/team": "platform"},
    "podLabels": {"example.com/tier": "observability"},
    "annotations": {"example.com/owner": "platform"},
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}]}}},
    "serviceAccount": {"annotations": {"example.com/role": "agent"}},
}

SCENARIOS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "daemonset, every option on": merge(ALL_ON_COMMON, {
        "service": {"enabled": True, "annotations": {"example.com/lb": "none"}},
        "priceCatalog": {"existingConfigMap": "genai-prices-data", "keys": ["data.json", "acme.json"],
                         "reloadInterval": "1m"},
        "persistence": {"enabled": True, "initChown": {"enabled": True}},
        "ports": {"telemetry": {"service": True}},
        "config": {"exporters": {"otlp/tempo": {"endpoint": "http://tempo.observability:4317"},
                                 "ledger": {"formats": ["jsonl", "focus_csv"], "otlp_logs": True}},
                   "reconcile": {"interval": "1h", "days": 7, "anthropic": {}, "openai": {}},
                   "service": {"telemetry": {"page": {
                       "trace_url": "http://jaeger.observability:16686/trace/{trace_id}"}}}},
        "tolerations": [{"operator": "Exists"}],
        "priorityClassName": "system-node-critical",
    }),
    "gateway, every option on": merge(ALL_ON_COMMON, {
        "mode": "gateway",
        "service": {"type": "ClusterIP", "annotations": {"example.com/lb": "internal"}},
        "gateway": {"autoscaling": {"behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}}}},
        "persistence": {"enabled": True, "volume": {"persistentVolumeClaim": {"claimName": "agent-queue"}}},
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                       "whenUnsatisfiable": "ScheduleAnyway",
                                       "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "genai-cost-agent"}}}],
        "config": {"pricing": {"currency": "EUR", "builtin": False, "models": [
            {"id": "claude-sonnet-4-6", "provider": "anthropic", "match": ["claude-sonnet-4-6"],
             "input": "2.80", "output": "14.00", "cache_read": "0.28", "cache_write": "3.50"}]}},
    }),
    "daemonset, tokens and TLS from existing Secrets, NetworkPolicy, telemetry on the pod IP": {
        "auth": {"enabled": True, "existingSecret": "agent-tokens", "secretKey": "otlp-tokens"},
        "tls": {"enabled": True, "existingSecret": "agent-tls", "minVersion": "1.3", "reloadInterval": "30s"},
        "networkPolicy": {
            "enabled": True,
            "allowedNamespaceSelector": {"matchLabels": {"genai-cost-agent/send": "true"}},
            "allowedPodSelector": {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "Exists"}]},
            "metricsFrom": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                             "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}],
            "extraIngress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 4318}]}],
        },
        "telemetry": {"bindPodIP": True},
        "service": {"enabled": True},
        "config": {"metrics": {"prometheus": {"enabled": True}}},
    },
    "gateway, test tokens, mutual TLS from cert-manager, NetworkPolicy restricting egress": {
        "mode": "gateway",
        "auth": {"enabled": True, "createSecret": True, "tokens": ["checks-token-1", "checks-token-2"]},
        "tls": {"enabled": True, "clientAuth": True, "certManager": {
            "enabled": True, "issuerRef": {"name": "cluster-ca", "kind": "ClusterIssuer"},
            "dnsNames": ["genai-cost-agent.example.com", "gca-genai-cost-agent.observability.svc"]}},
        "networkPolicy": {"enabled": True, "egress": {"restrict": True, "to": [
            {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}}],
             "ports": [{"port": 4317, "protocol": "TCP"}]}]}},
        "ports": {"otlpHttp": {"enabled": False}},
        "config": {"exporters": {"otlp": {"endpoint": "http://otel-collector.observability:4317"}}},
    },
    "daemonset, TLS from cert-manager with default names, NetworkPolicy defaults": {
        "tls": {"enabled": True, "certManager": {"enabled": True, "issuerRef": {"name": "agent-ca"}}},
        "networkPolicy": {"enabled": True},
    },
    "gateway, fixed replicas": {
        "mode": "gateway",
        "gateway": {"autoscaling": {"enabled": False}, "replicas": 3, "podDisruptionBudget": {"enabled": False}},
        "ports": {"otlpHttp": {"enabled": False}},
        "downwardApiEnv": False,
    },
}

# Values that must not render, and a piece of the reason the chart gives.
REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("grace period not longer than the drain deadline",
     {"terminationGracePeriodSeconds": 10}, "must be longer than config.service.shutdown_timeout"),
    ("grace period not longer than drain deadline plus preStop sleep",
     {"terminationGracePeriodSeconds": 14, "lifecycle": {"preStop": {"sleep": {"seconds": 5}}}},
     "must be longer than config.service.shutdown_timeout"),
    ("unreadable shutdown_timeout", {"config": {"service": {"shutdown_timeout": "ten"}}}, "cannot read the duration"),
    ("unknown mode (values.schema.json)", {"mode": "sidecar"}, "/mode"),
    ("a misspelt key (values.schema.json)", {"serviceMonitor": {"enable": True}}, "enable"),
    ("a queue ratio above 1 (values.schema.json)", {"prometheusRule": {"health": {"queueFullRatio": 80}}},
     "queueFullRatio"),
    ("gateway persistence without a volume", {"mode": "gateway", "persistence": {"enabled": True}},
     "persistence in gateway mode needs persistence.volume"),
    ("currency that is not an ISO code", {"prometheusRule": {"enabled": True},
                                          "config": {"pricing": {"currency": "usd"}}}, "ISO 4217"),
    ("auth without a Secret", {"auth": {"enabled": True}}, "auth.enabled needs auth.existingSecret"),
    ("auth.createSecret without tokens", {"auth": {"enabled": True, "createSecret": True}},
     "auth.createSecret needs at least one token"),
    ("auth with both an existing and a created Secret",
     {"auth": {"enabled": True, "createSecret": True, "tokens": ["both-secrets-token"], "existingSecret": "mine"}},
     "not both"),
    ("a token with a space (not echoed)", {"auth": {"enabled": True, "createSecret": True, "tokens": ["se cret"]}},
     "a token is one word"),
    ("a secretKey that is a path (values.schema.json)",
     {"auth": {"enabled": True, "existingSecret": "t", "secretKey": "../tokens"}}, "secretKey"),
    ("TLS without a Secret", {"tls": {"enabled": True}}, "tls.enabled needs tls.existingSecret"),
    ("cert-manager without tls.enabled",
     {"tls": {"certManager": {"enabled": True, "issuerRef": {"name": "ca"}}}},
     "tls.certManager.enabled needs tls.enabled"),
    ("cert-manager without an issuer (values.schema.json)",
     {"tls": {"enabled": True, "certManager": {"enabled": True}}}, "issuerRef/name"),
    ("TLS 1.1 (values.schema.json)", {"tls": {"enabled": True, "existingSecret": "t", "minVersion": "1.1"}},
     "minVersion"),
    ("a ledger with nowhere to go", {"config": {"exporters": {"ledger": {"formats": ["jsonl"]}}}},
     "config.exporters.ledger needs persistence.enabled"),
    ("telemetry on the pod IP without the downward API", {"telemetry": {"bindPodIP": True}, "downwardApiEnv": False},
     "telemetry.bindPodIP needs downwardApiEnv"),
    ("an unknown NetworkPolicy key (values.schema.json)", {"networkPolicy": {"enabled": True, "allowFrom": []}},
     "allowFrom"),
]

WORKLOAD_KINDS = {"DaemonSet", "Deployment"}
CRD_KINDS = {"ServiceMonitor", "PrometheusRule", "Certificate"}
# Labels Prometheus (through the Operator's ServiceMonitor) puts on every scraped series.
TARGET_LABELS = {"job", "instance", "namespace", "pod", "service", "endpoint", "container", "le"}
SEVEN_PANELS = [
    "Cost per request (average, p95)", "Tokens per dollar", "Cache hit rate", "Model mix (calls per second)",
    "Output / input ratio", "Cost of failed calls", "Throttling (rate-limited calls)",
]
ATTRIBUTION_PANELS = ["Spend by service (per hour)", "Top users by spend", "Spend by team (per hour)",
                      "Spend by feature (per hour)"]


# --------------------------------------------------------------------------------------------
# Rendering and linting.

def lint(values: dict[str, Any], label: str) -> None:
    report = helm.lint(str(CHART), values, strict=True, kube_version=f"v{KUBE_VERSION}.0")
    problems = [m for m in report.get("messages", []) if m.get("severity", 0) >= 2]
    if problems or report.get("errors"):
        details = "\n".join(f"    [{m.get('path')}] {m.get('error')}" for m in problems) or \
            "\n".join(f"    {e}" for e in report["errors"])
        fail(f"helm lint --strict ({label}):\n{details}")
    infos = [m.get("error") for m in report.get("messages", []) if m.get("severity", 0) < 2]
    ok(f"helm lint --strict --kube-version {KUBE_VERSION} ({label})" + (f"; info: {'; '.join(infos)}" if infos else ""))


def render(values: dict[str, Any]) -> dict[str, str]:
    with helm.Chart.load(str(CHART)) as chart:
        return chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)


def documents(rendered: dict[str, str]) -> list[dict[str, Any]]:
    docs = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        try:
            for doc in yaml.safe_load_all(text):
                if doc:
                    doc.setdefault("__source__", path)
                    docs.append(doc)
        except yaml.YAMLError as err:
            fail(f"{path} does not render to valid YAML: {err}")
    return docs


def strip_source(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "__source__"}


def one(docs: list[dict], kind: str, suffix: str = "") -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(suffix)]
    if len(found) != 1:
        fail(f"expected one {kind}{' *' + suffix if suffix else ''}, found {len(found)}")
    return found[0]


def kinds(docs: list[dict]) -> list[str]:
    return sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)


# --------------------------------------------------------------------------------------------
# Kubernetes schema validation, and the custom resources' structure.

DURATION = re.compile(r"^(0|([0-9]+(ms|s|m|h|d|w|y))+)$")


def seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(float(n) * units[u] for n, u in re.findall(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w|y)", duration))


def string_map(value: Any, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        fail(f"{where} must map strings to strings, got {value!r}")


def only_keys(value: dict, allowed: set[str], where: str) -> None:
    extra = set(value) - allowed
    if extra:
        fail(f"{where} has unknown field(s) {sorted(extra)}")


def check_metadata(doc: dict, where: str) -> None:
    meta = doc.get("metadata") or {}
    if not isinstance(meta.get("name"), str) or not re.match(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", meta["name"]):
        fail(f"{where}: metadata.name {meta.get('name')!r} is not a DNS subdomain")
    string_map(meta.get("labels"), f"{where}: metadata.labels")
    string_map(meta.get("annotations"), f"{where}: metadata.annotations")


def check_service_monitor(doc: dict) -> None:
    where = f"ServiceMonitor/{doc['metadata']['name']}"
    if doc["apiVersion"] != "monitoring.coreos.com/v1":
        fail(f"{where}: apiVersion must be monitoring.coreos.com/v1")
    check_metadata(doc, where)
    only_keys(strip_source(doc), {"apiVersion", "kind", "metadata", "spec"}, where)
    spec = doc.get("spec") or {}
    only_keys(spec, {"selector", "endpoints", "namespaceSelector", "jobLabel", "targetLabels", "podTargetLabels",
                     "sampleLimit", "attachMetadata"}, f"{where}: spec")
    selector = spec.get("selector") or {}
    only_keys(selector, {"matchLabels", "matchExpressions"}, f"{where}: spec.selector")
    string_map(selector.get("matchLabels"), f"{where}: spec.selector.matchLabels")
    if not selector.get("matchLabels"):
        fail(f"{where}: spec.selector.matchLabels is empty (it would select every Service)")
    names = (spec.get("namespaceSelector") or {}).get("matchNames", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        fail(f"{where}: spec.namespaceSelector.matchNames must be a list of strings")
    endpoints = spec.get("endpoints")
    if not isinstance(endpoints, list) or not endpoints:
        fail(f"{where}: spec.endpoints must be a non-empty list")
    for index, endpoint in enumerate(endpoints):
        at = f"{where}: spec.endpoints[{index}]"
        only_keys(endpoint, {"port", "targetPort", "path", "scheme", "interval", "scrapeTimeout", "honorLabels",
                             "honorTimestamps", "relabelings", "metricRelabelings", "params"}, at)
        if not isinstance(endpoint.get("port"), str):
            fail(f"{at}: port must be the Service port's name")
        if not str(endpoint.get("path", "/metrics")).startswith("/"):
            fail(f"{at}: path must start with /")
        for key in ("interval", "scrapeTimeout"):
            if key in endpoint and not DURATION.match(str(endpoint[key])):
                fail(f"{at}: {key} {endpoint[key]!r} is not a Prometheus duration")
        if "interval" in endpoint and "scrapeTimeout" in endpoint and \
                seconds(endpoint["scrapeTimeout"]) > seconds(endpoint["interval"]):
            fail(f"{at}: scrapeTimeout is longer than interval")
        for key in ("relabelings", "metricRelabelings"):
            for rule in endpoint.get(key, []):
                only_keys(rule, {"action", "sourceLabels", "separator", "targetLabel", "regex", "modulus",
                                 "replacement"}, f"{at}.{key}")


def check_prometheus_rule(doc: dict) -> None:
    where = f"PrometheusRule/{doc['metadata']['name']}"
    if doc["apiVersion"] != "monitoring.coreos.com/v1":
        fail(f"{where}: apiVersion must be monitoring.coreos.com/v1")
    check_metadata(doc, where)
    only_keys(strip_source(doc), {"apiVersion", "kind", "metadata", "spec"}, where)
    spec = doc.get("spec") or {}
    only_keys(spec, {"groups"}, f"{where}: spec")
    groups = spec.get("groups")
    if not isinstance(groups, list) or not groups:
        fail(f"{where}: spec.groups must be a non-empty list")
    seen_groups: set[str] = set()
    for group in groups:
        name = group.get("name")
        if not isinstance(name, str) or not name or name in seen_groups:
            fail(f"{where}: group names must be unique non-empty strings ({name!r})")
        seen_groups.add(name)
        only_keys(group, {"name", "interval", "rules", "limit", "partial_response_strategy"}, f"{where}: group {name}")
        if "interval" in group and not DURATION.match(str(group["interval"])):
            fail(f"{where}: group {name}: interval {group['interval']!r} is not a duration")
        rules = group.get("rules")
        if not isinstance(rules, list) or not rules:
            fail(f"{where}: group {name}: rules must be a non-empty list")
        for rule in rules:
            at = f"{where}: group {name}: rule {rule.get('alert') or rule.get('record')}"
            only_keys(rule, {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}, at)
            if ("alert" in rule) == ("record" in rule):
                fail(f"{at}: needs exactly one of alert and record")
            if not isinstance(rule.get("expr"), str) or not rule["expr"].strip():
                fail(f"{at}: expr must be a non-empty string")
            if "for" in rule and not DURATION.match(str(rule["for"])):
                fail(f"{at}: for {rule['for']!r} is not a duration")
            string_map(rule.get("labels"), f"{at}: labels")
            string_map(rule.get("annotations"), f"{at}: annotations")
            if "record" in rule and "annotations" in rule:
                fail(f"{at}: recording rules take no annotations")


def check_certificate(doc: dict) -> None:
    """cert-manager.io/v1 Certificate: the fields the chart writes, with cert-manager's types."""
    where = f"Certificate/{doc['metadata']['name']}"
    if doc["apiVersion"] != "cert-manager.io/v1":
        fail(f"{where}: apiVersion must be cert-manager.io/v1")
    check_metadata(doc, where)
    only_keys(strip_source(doc), {"apiVersion", "kind", "metadata", "spec"}, where)
    spec = doc.get("spec") or {}
    only_keys(spec, {"secretName", "secretTemplate", "commonName", "dnsNames", "ipAddresses", "uris",
                     "emailAddresses", "duration", "renewBefore", "privateKey", "usages", "issuerRef", "subject",
                     "isCA", "revisionHistoryLimit", "keystores", "encodeUsagesInRequest"}, f"{where}: spec")
    if not isinstance(spec.get("secretName"), str) or not spec["secretName"]:
        fail(f"{where}: spec.secretName is required")
    template = spec.get("secretTemplate") or {}
    only_keys(template, {"labels", "annotations"}, f"{where}: spec.secretTemplate")
    string_map(template.get("labels"), f"{where}: spec.secretTemplate.labels")
    names = spec.get("dnsNames", []) + spec.get("ipAddresses", [])
    if not names or not all(isinstance(n, str) and n for n in names):
        fail(f"{where}: needs dnsNames or ipAddresses, as non-empty strings")
    for key in ("duration", "renewBefore"):
        if key in spec and not re.fullmatch(r"([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+", str(spec[key])):
            fail(f"{where}: spec.{key} {spec[key]!r} is not a Go duration")
    if "duration" in spec and "renewBefore" in spec and seconds(spec["renewBefore"]) >= seconds(spec["duration"]):
        fail(f"{where}: renewBefore must be shorter than duration")
    key = spec.get("privateKey") or {}
    only_keys(key, {"algorithm", "size", "encoding", "rotationPolicy"}, f"{where}: spec.privateKey")
    if key.get("algorithm", "RSA") not in ("RSA", "ECDSA", "Ed25519") or \
            key.get("rotationPolicy", "Always") not in ("Never", "Always") or \
            key.get("encoding", "PKCS1") not in ("PKCS1", "PKCS8") or not isinstance(key.get("size", 0), int):
        fail(f"{where}: spec.privateKey {key} is not what cert-manager takes")
    usages = {"signing", "digital signature", "content commitment", "key encipherment", "key agreement",
              "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any", "server auth",
              "client auth", "code signing", "email protection", "s/mime", "ipsec end system", "ipsec tunnel",
              "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc"}
    if not set(spec.get("usages", [])) <= usages or "server auth" not in spec.get("usages", ["server auth"]):
        fail(f"{where}: spec.usages {spec.get('usages')} unknown to cert-manager, or without server auth")
    issuer = spec.get("issuerRef") or {}
    only_keys(issuer, {"name", "kind", "group"}, f"{where}: spec.issuerRef")
    if not isinstance(issuer.get("name"), str) or not issuer["name"]:
        fail(f"{where}: spec.issuerRef.name is required")


def validate_manifests(docs: list[dict], label: str) -> None:
    for doc in docs:
        where = f"{doc['__source__']} {doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] == "ServiceMonitor":
            check_service_monitor(doc)
            continue
        if doc["kind"] == "PrometheusRule":
            check_prometheus_rule(doc)
            continue
        if doc["kind"] == "Certificate":
            check_certificate(doc)
            continue
        try:
            kube_validate.validate(strip_source(doc), KUBE_VERSION, strict=True)
        except kube_validate.ValidationError as err:
            path = ".".join(str(p) for p in err.path)
            fail(f"{where} does not validate against Kubernetes {err.version} (strict): {path}: {err.message}")
        except kube_validate.SchemaNotFoundError as err:
            fail(f"{where}: {err.message}")
    crds = sorted({d["kind"] for d in docs if d["kind"] in CRD_KINDS})
    ok(f"{len(docs) - sum(d['kind'] in CRD_KINDS for d in docs)} manifests valid against Kubernetes {KUBE_VERSION} "
       f"(strict){'; structure of ' + ', '.join(crds) + ' checked here' if crds else ''} ({label})")


# --------------------------------------------------------------------------------------------
# What the chart promises.

def agent_config(docs: list[dict]) -> tuple[str, dict]:
    configmap = one([d for d in docs if d["kind"] == "ConfigMap" and not d["metadata"]["name"].endswith("-dashboard")],
                    "ConfigMap")
    text = configmap["data"]["config.yaml"]
    return text, yaml.safe_load(text)


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def get(tree: dict, dotted: str, default: Any = None) -> Any:
    node: Any = tree
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def check_invariants(docs: list[dict], values: dict, label: str) -> None:
    merged = merge(render_defaults(), values)
    mode = merged["mode"]
    _, config = agent_config(docs)
    workloads = [d for d in docs if d["kind"] in WORKLOAD_KINDS]
    if len(workloads) != 1:
        fail(f"expected one DaemonSet or Deployment, found {kinds(workloads)}")
    workload = workloads[0]
    expected_kind = "DaemonSet" if mode == "daemonset" else "Deployment"
    if workload["kind"] != expected_kind:
        fail(f"mode {mode} renders a {workload['kind']}, not a {expected_kind}")
    pod = workload["spec"]["template"]
    spec = pod["spec"]
    agent = next(c for c in spec["containers"] if c["name"] == "agent")
    ports = {p["name"]: p for p in agent["ports"]}

    checksum = pod["metadata"].get("annotations", {}).get("checksum/config", "")
    if not re.fullmatch(r"[0-9a-f]{64}", checksum):
        fail("the pod template has no checksum/config annotation")

    if agent["args"][:2] != ["--config", "/etc/genai-cost-agent/config.yaml"]:
        fail(f"the agent is not started with --config /etc/genai-cost-agent/config.yaml: {agent['args']}")
    mounts = {m["mountPath"]: m for m in agent["volumeMounts"]}
    if not mounts.get("/etc/genai-cost-agent", {}).get("readOnly"):
        fail("the ConfigMap is not mounted read-only at /etc/genai-cost-agent")

    # Listen addresses in the agent's config match the container ports, probes and Services.
    telemetry = port_of(config["service"]["telemetry"]["endpoint"])
    if ports["telemetry"]["containerPort"] != telemetry:
        fail(f"telemetry container port {ports['telemetry']['containerPort']} != config port {telemetry}")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        http = agent.get(probe, {}).get("httpGet", {})
        if http.get("path") != path or http.get("port") != "telemetry":
            fail(f"{probe} must GET {path} on port telemetry, got {http}")
    for name, key in (("otlp-grpc", "grpc"), ("otlp-http", "http")):
        protocol = config["receivers"]["otlp"]["protocols"][key]
        if protocol["enabled"] != (name in ports):
            fail(f"receiver {key} enabled={protocol['enabled']} but container port {name} present={name in ports}")
        if name in ports:
            if ports[name]["containerPort"] != port_of(protocol["endpoint"]):
                fail(f"{name}: container port {ports[name]['containerPort']} != config {protocol['endpoint']}")
            has_host_port = "hostPort" in ports[name]
            if has_host_port != (mode == "daemonset"):
                fail(f"{name}: hostPort must be set in DaemonSet mode only")
    prometheus_on = bool(get(config, "metrics.prometheus.enabled", False))
    if prometheus_on != ("prometheus" in ports):
        fail("the prometheus container port must exist exactly when metrics.prometheus.enabled")
    if prometheus_on and ports["prometheus"]["containerPort"] != port_of(config["metrics"]["prometheus"]["endpoint"]):
        fail("prometheus container port differs from metrics.prometheus.endpoint")
    for address in (config["service"]["telemetry"]["endpoint"],):
        if address.startswith(("localhost", "127.")):
            fail(f"{address} would be unreachable for the kubelet's probes")

    # Security context.
    security = agent.get("securityContext", {})
    pod_security = spec.get("securityContext", {})
    if not (security.get("runAsNonRoot") and pod_security.get("runAsNonRoot")):
        fail("the agent must run as non-root (pod and container)")
    if not security.get("readOnlyRootFilesystem"):
        fail("the agent's root filesystem must be read-only")
    if security.get("allowPrivilegeEscalation") is not False:
        fail("allowPrivilegeEscalation must be false")
    capabilities = security.get("capabilities", {})
    if "ALL" not in capabilities.get("drop", []) or capabilities.get("add"):
        fail("the agent must drop ALL capabilities and add none")
    if spec.get("automountServiceAccountToken") is not False:
        fail("the service account token must not be mounted (the agent never calls the API)")

    # Resources, identity from the downward API.
    resources = agent.get("resources", {})
    if not (resources.get("requests", {}).get("memory") and resources.get("limits", {}).get("memory")):
        fail("the agent needs memory requests and limits")
    env = {e["name"]: e for e in agent.get("env", [])}
    if merged["downwardApiEnv"]:
        expected_env = {"K8S_NODE_NAME": "spec.nodeName", "K8S_NODE_IP": "status.hostIP",
                        "K8S_POD_NAME": "metadata.name", "K8S_POD_NAMESPACE": "metadata.namespace",
                        "K8S_POD_IP": "status.podIP"}
        for name, field in expected_env.items():
            if get(env.get(name, {}), "valueFrom.fieldRef.fieldPath") != field:
                fail(f"env {name} must come from the downward API {field}")

    # Grace period longer than the drain deadline (plus any preStop sleep).
    shutdown = seconds(str(get(config, "service.shutdown_timeout", "10s")))
    sleep = get(agent, "lifecycle.preStop.sleep.seconds", 0)
    if spec["terminationGracePeriodSeconds"] <= shutdown + sleep:
        fail(f"terminationGracePeriodSeconds {spec['terminationGracePeriodSeconds']} <= shutdown_timeout "
             f"{shutdown}s + preStop {sleep}s")

    # Persistent queue directory: mounted, agent config untouched.
    if merged["persistence"]["enabled"]:
        mount_path = merged["persistence"]["mountPath"]
        if mount_path not in mounts or mounts[mount_path]["name"] != "queue":
            fail(f"persistence: the queue volume is not mounted at {mount_path}")
        volume = next(v for v in spec["volumes"] if v["name"] == "queue")
        if mode == "daemonset" and not merged["persistence"]["volume"] and "hostPath" not in volume:
            fail("persistence in DaemonSet mode must default to a hostPath")
        for name, exporter in (config.get("exporters") or {}).items():
            if name == "otlp" or name.startswith("otlp/"):
                if get(exporter or {}, "sending_queue.storage") != mount_path:
                    fail(f"persistence: exporters.{name}.sending_queue.storage must be {mount_path}")
    elif any(get(exporter or {}, "sending_queue.storage") is not None
             for exporter in (config.get("exporters") or {}).values()):
        fail("without persistence no exporter may queue on disk (nothing is mounted)")

    # Services and what they select.
    pod_labels = pod["metadata"]["labels"]

    def selects(selector: dict) -> bool:
        return all(pod_labels.get(k) == v for k, v in selector.items())

    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    main = services.get(f"{RELEASE}-genai-cost-agent")
    if mode == "gateway" or merged["service"]["enabled"]:
        if main is None:
            fail("the Service is missing")
        if not selects(main["spec"]["selector"]):
            fail("the Service does not select the agent's pods")
        policy = main["spec"].get("internalTrafficPolicy")
        if policy != ("Local" if mode == "daemonset" else "Cluster"):
            fail(f"{mode} Service has internalTrafficPolicy {policy}")
        for port in main["spec"]["ports"]:
            if port["targetPort"] not in ports:
                fail(f"Service port {port['name']} targets {port['targetPort']}, not a container port")
    elif main is not None:
        fail("the DaemonSet-mode Service is optional and off by default")

    if mode == "gateway":
        autoscaling = merged["gateway"]["autoscaling"]["enabled"]
        hpas = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
        if autoscaling:
            if len(hpas) != 1 or hpas[0]["spec"]["scaleTargetRef"]["name"] != workload["metadata"]["name"]:
                fail("gateway mode with autoscaling needs an HPA targeting the Deployment")
            if "replicas" in workload["spec"]:
                fail("the Deployment must leave replicas to the HPA")
        elif hpas or workload["spec"].get("replicas") != merged["gateway"]["replicas"]:
            fail("gateway mode without autoscaling: no HPA, replicas from gateway.replicas")
        pdbs = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
        if merged["gateway"]["podDisruptionBudget"]["enabled"] != bool(pdbs):
            fail("PodDisruptionBudget present/absent against gateway.podDisruptionBudget.enabled")
        if pdbs and not selects(pdbs[0]["spec"]["selector"]["matchLabels"]):
            fail("the PodDisruptionBudget does not select the agent's pods")

    # ServiceMonitor -> metrics Service -> pods, with the right ports.
    monitors = [d for d in docs if d["kind"] == "ServiceMonitor"]
    if merged["serviceMonitor"]["enabled"]:
        monitor = one(docs, "ServiceMonitor")
        metrics_service = services.get(f"{RELEASE}-genai-cost-agent-metrics")
        if metrics_service is None:
            fail("the ServiceMonitor has no metrics Service")
        selector = monitor["spec"]["selector"]["matchLabels"]
        selected = [name for name, service in services.items()
                    if all(service["metadata"]["labels"].get(k) == v for k, v in selector.items())]
        if selected != [metrics_service["metadata"]["name"]]:
            fail(f"the ServiceMonitor must select the metrics Service only (else pods are scraped twice): {selected}")
        if not selects(metrics_service["spec"]["selector"]) or metrics_service["spec"].get("clusterIP") != "None":
            fail("the metrics Service must be headless and select the agent's pods")
        service_ports = {p["name"]: p for p in metrics_service["spec"]["ports"]}
        wanted = {"telemetry"} | ({"prometheus"} if prometheus_on else set())
        endpoints = {e["port"] for e in monitor["spec"]["endpoints"]}
        if endpoints != wanted or not wanted <= set(service_ports):
            fail(f"ServiceMonitor endpoints {sorted(endpoints)} should be {sorted(wanted)} on the metrics Service")
        for endpoint in monitor["spec"]["endpoints"]:
            if endpoint.get("path") != "/metrics":
                fail("ServiceMonitor endpoints scrape /metrics")
    elif monitors:
        fail("ServiceMonitor rendered while disabled")
    ok(f"chart invariants hold: {kinds([d for d in docs])} ({label})")


_DEFAULTS: dict[str, Any] | None = None


def render_defaults() -> dict[str, Any]:
    global _DEFAULTS
    if _DEFAULTS is None:
        with helm.Chart.load(str(CHART)) as chart:
            _DEFAULTS = chart.values
    return _DEFAULTS


def check_refusals() -> None:
    for label, values, reason in REFUSED:
        try:
            render(values)
        except helm.HelmError as err:
            if reason not in str(err):
                fail(f"{label}: rendering failed, but not saying {reason!r}: {err}")
            tokens = get(values, "auth.tokens", [])
            if any(token in str(err) for token in tokens):
                fail(f"{label}: the refusal repeats a token")
            ok(f"refused: {label}")
            continue
        fail(f"{label}: the chart rendered; it should refuse ({reason})")


def check_checksum() -> None:
    def checksum(values: dict) -> str:
        docs = documents(render(values))
        workload = next(d for d in docs if d["kind"] in WORKLOAD_KINDS)
        return workload["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    base = checksum({})
    if checksum({"config": {"metrics": {"interval": "30s"}}}) == base:
        fail("checksum/config does not change when the agent's configuration changes")
    if checksum({"resources": {"limits": {"memory": "1Gi"}}}) != base:
        fail("checksum/config changes although the configuration did not")
    configmap_text = next(t for p, t in render({}).items() if p.endswith("templates/configmap.yaml"))
    if hashlib.sha256(configmap_text.encode()).hexdigest() != base:
        fail("checksum/config is not the sha256 of the rendered ConfigMap")
    ok("checksum/config is the ConfigMap's sha256 and changes with the configuration only")


# --------------------------------------------------------------------------------------------
# The agent binary.

def agent_binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    if not target.is_absolute():
        target = ROOT / target
    binary = target / "debug" / "genai-cost-agent"
    if not binary.exists():
        print(f"  ..  {binary} is missing: cargo build (at most 20 minutes)", flush=True)
        try:
            subprocess.run(["cargo", "build", "--locked", "--bin", "genai-cost-agent"], cwd=ROOT, check=True,
                           timeout=1200)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError) as err:
            fail(f"cargo build failed: {err}")
    if not binary.exists():
        fail(f"{binary} is still missing after cargo build")
    return binary


ADMIN_KEY = "checks-admin-key-never-shown"


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["NO_COLOR"] = "1"
    env["BACKEND_TOKEN"] = "checks-token"
    # config.reconcile's admin keys (from a Secret through extraEnvFrom in a pod).
    env["ANTHROPIC_ADMIN_KEY"] = ADMIN_KEY
    env["OPENAI_ADMIN_KEY"] = ADMIN_KEY
    env["K8S_POD_IP"] = "127.0.0.1"  # from the downward API in a pod (telemetry.bindPodIP)
    return env


def validate_config(binary: Path, text: str, label: str, workdir: Path) -> None:
    path = workdir / f"config-{re.sub(r'[^a-z0-9]+', '-', label.lower())}.yaml"
    path.write_text(text)
    result = subprocess.run([str(binary), "validate", "--config", str(path)], capture_output=True, text=True,
                            timeout=60, env=clean_env())
    if result.returncode != 0:
        fail(f"genai-cost-agent validate refuses the rendered configuration ({label}):\n"
             f"{result.stdout}{result.stderr}\n--- config.yaml ---\n{text}")
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    ok(f"genai-cost-agent validate accepts the rendered config.yaml ({label})"
       + (f"; it warned: {' | '.join(warnings)}" if warnings else ""))


# --------------------------------------------------------------------------------------------
# Receiver security: tokens and certificates from Secrets, the NetworkPolicy, the telemetry
# port on the pod IP.

AUTH_DIR = "/var/run/secrets/genai-cost-agent/auth"
TLS_DIR = "/var/run/secrets/genai-cost-agent/tls"


def secret_mounts(workload: dict) -> dict[str, tuple[dict, dict]]:
    """Secret volumes of the agent's pod, by volume name, with the agent's mount of each."""
    spec = workload["spec"]["template"]["spec"]
    agent = next(c for c in spec["containers"] if c["name"] == "agent")
    mounts = {m["name"]: m for m in agent.get("volumeMounts", [])}
    return {v["name"]: (v, mounts[v["name"]]) for v in spec.get("volumes", []) if "secret" in v and v["name"] in mounts}


def check_secret_mount(workload: dict, name: str, secret_name: str, mount_path: str, items: dict[str, str],
                       what: str) -> None:
    found = secret_mounts(workload).get(name)
    if found is None:
        fail(f"{what}: no Secret volume {name} mounted in the agent")
    volume, mount = found
    if volume["secret"].get("secretName") != secret_name:
        fail(f"{what}: volume {name} mounts Secret {volume['secret'].get('secretName')}, not {secret_name}")
    if mount.get("mountPath") != mount_path or not mount.get("readOnly"):
        fail(f"{what}: {name} must be mounted read-only at {mount_path}: {mount}")
    if "subPath" in mount or "subPathExpr" in mount:
        fail(f"{what}: {name} is mounted with subPath, which never sees the Secret's updates")
    got = {i["key"]: i["path"] for i in volume["secret"].get("items", [])}
    if got != items:
        fail(f"{what}: volume {name} projects {got}, expected {items}")


def expected_selectors(policy: dict) -> list[dict]:
    return [{"namespaceSelector": policy["allowedNamespaceSelector"] or {},
             "podSelector": policy["allowedPodSelector"] or {}}]


def check_network_policy(docs: list[dict], merged: dict, pod_labels: dict, selector: dict, config: dict,
                         ports: dict[str, dict]) -> str:
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    settings = merged["networkPolicy"]
    if not settings["enabled"]:
        if policies:
            fail("a NetworkPolicy is rendered while networkPolicy.enabled is false")
        return ""
    policy = one(docs, "NetworkPolicy")["spec"]
    matched = policy["podSelector"].get("matchLabels", {})
    if matched != selector or not all(pod_labels.get(k) == v for k, v in matched.items()) or \
            policy["podSelector"].get("matchExpressions"):
        fail(f"the NetworkPolicy must select the agent's pods by the workload's selector: {policy['podSelector']}")
    restrict = settings["egress"]["restrict"]
    if policy.get("policyTypes") != (["Ingress", "Egress"] if restrict else ["Ingress"]):
        fail(f"NetworkPolicy policyTypes {policy.get('policyTypes')} (egress.restrict={restrict})")
    rules = policy.get("ingress") or []
    extra = settings["extraIngress"]
    if extra and rules[-len(extra):] != extra:
        fail("networkPolicy.extraIngress is not appended as written")
    own = rules[: len(rules) - len(extra)]
    otlp_ports = {ports[n]["containerPort"] for n in ("otlp-grpc", "otlp-http") if n in ports}
    metric_ports = {ports[n]["containerPort"] for n in ("telemetry", "prometheus") if n in ports}
    wanted = []
    if otlp_ports:
        wanted.append((expected_selectors(settings), otlp_ports))
    if settings["metricsFrom"]:
        wanted.append((settings["metricsFrom"], metric_ports))
    got = []
    for rule in own:
        rule_ports = rule.get("ports") or []
        if not rule_ports or any(p.get("protocol") != "TCP" or not isinstance(p.get("port"), int) or "endPort" in p
                                 for p in rule_ports):
            fail(f"NetworkPolicy rule without explicit TCP port numbers: {rule}")
        got.append((rule.get("from"), {p["port"] for p in rule_ports}))
    if got != wanted:
        fail(f"NetworkPolicy ingress {got}, expected {wanted}")
    # The OTLP receivers' ports are open only to the apps' selectors, the metrics ones to metricsFrom.
    if otlp_ports & metric_ports:
        fail("OTLP and telemetry ports overlap")
    if port_of(get(config, "service.telemetry.endpoint")) not in metric_ports:
        fail("the NetworkPolicy does not cover the configured telemetry port")
    if restrict:
        egress = policy.get("egress") or []
        dns = [{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}]
        expected = (dns if settings["egress"]["allowDns"] else []) + settings["egress"]["to"]
        if egress != expected:
            fail(f"NetworkPolicy egress {egress}, expected {expected}")
    elif "egress" in policy:
        fail("egress rules rendered although egress is unrestricted")
    return (f"NetworkPolicy selects the pods, OTLP {sorted(otlp_ports)} from {expected_selectors(settings)}, "
            f"metrics {sorted(metric_ports) if settings['metricsFrom'] else '[closed]'}"
            f"{', ' + str(len(extra)) + ' extra rule(s)' if extra else ''}, egress "
            f"{'restricted' if restrict else 'open'}")


def check_security(docs: list[dict], values: dict, label: str) -> None:
    merged = merge(render_defaults(), values)
    _, config = agent_config(docs)
    workload = next(d for d in docs if d["kind"] in WORKLOAD_KINDS)
    pod = workload["spec"]["template"]
    agent = next(c for c in pod["spec"]["containers"] if c["name"] == "agent")
    ports = {p["name"]: p for p in agent["ports"]}
    fullname = f"{RELEASE}-genai-cost-agent"
    said = []

    for mount in agent.get("volumeMounts", []):
        if mount["name"] in secret_mounts(workload) and ("subPath" in mount or "subPathExpr" in mount):
            fail(f"Secret volume {mount['name']} mounted with subPath")

    auth = merged["auth"]
    secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
    token_file = get(config, "receivers.otlp.auth.bearer_token_file")
    if auth["enabled"]:
        name = f"{fullname}-auth" if auth["createSecret"] else auth["existingSecret"]
        check_secret_mount(workload, "auth-tokens", name, AUTH_DIR, {auth["secretKey"]: auth["secretKey"]}, "auth")
        if token_file != f"{AUTH_DIR}/{auth['secretKey']}":
            fail(f"receivers.otlp.auth.bearer_token_file is {token_file}, "
                 f"not the mounted {AUTH_DIR}/{auth['secretKey']}")
        if auth["createSecret"]:
            secret = secrets.get(name)
            if secret is None or secret.get("type") != "Opaque":
                fail(f"auth.createSecret: no Opaque Secret {name}")
            lines = secret["stringData"][auth["secretKey"]].splitlines()
            if lines != auth["tokens"]:
                fail("auth.createSecret: the Secret does not hold the tokens one a line")
        elif name in secrets:
            fail("auth.existingSecret: the chart must not render that Secret")
        said.append(f"tokens from Secret {name} at {token_file}")
    elif token_file or any(d["metadata"]["name"].endswith("-auth") for d in secrets.values()):
        fail("auth is off, yet a token file or Secret is rendered")

    tls = merged["tls"]
    protocols = config["receivers"]["otlp"]["protocols"]
    certificates = [d for d in docs if d["kind"] == "Certificate"]
    if tls["enabled"]:
        name = tls["existingSecret"] or f"{fullname}-tls"
        items = {"tls.crt": "tls.crt", "tls.key": "tls.key"} | ({"ca.crt": "ca.crt"} if tls["clientAuth"] else {})
        check_secret_mount(workload, "tls", name, TLS_DIR, items, "tls")
        expected = {"cert_file": f"{TLS_DIR}/tls.crt", "key_file": f"{TLS_DIR}/tls.key",
                    "min_version": str(tls["minVersion"]), "reload_interval": tls["reloadInterval"]}
        if tls["clientAuth"]:
            expected["client_ca_file"] = f"{TLS_DIR}/ca.crt"
        for key in ("grpc", "http"):
            if protocols[key].get("tls") != expected:
                fail(f"receivers.otlp.protocols.{key}.tls is {protocols[key].get('tls')}, expected {expected}")
        if tls["certManager"]["enabled"]:
            certificate = one(docs, "Certificate")["spec"]
            if certificate["secretName"] != name:
                fail(f"the Certificate writes {certificate['secretName']}, the pods mount {name}")
            issuer = tls["certManager"]["issuerRef"]
            if certificate["issuerRef"] != {"name": issuer["name"], "kind": issuer["kind"], "group": issuer["group"]}:
                fail(f"Certificate issuerRef {certificate['issuerRef']} differs from the values")
            names = tls["certManager"]["dnsNames"] or [
                fullname, f"{fullname}.{NAMESPACE}", f"{fullname}.{NAMESPACE}.svc",
                f"{fullname}.{NAMESPACE}.svc.cluster.local"]
            if certificate["dnsNames"] != names:
                fail(f"Certificate dnsNames {certificate['dnsNames']}, expected {names}")
            said.append(f"certificate from cert-manager ({issuer['kind']} {issuer['name']}) into {name}")
        elif certificates:
            fail("a Certificate is rendered without tls.certManager.enabled")
        said.append(f"TLS {tls['minVersion']}+ from Secret {name}"
                    + (" with client certificates" if tls["clientAuth"] else ""))
    elif any("tls" in protocols[k] for k in ("grpc", "http")) or certificates:
        fail("tls is off, yet the receivers' tls or a Certificate is rendered")

    telemetry = get(config, "service.telemetry.endpoint")
    port = ports["telemetry"]["containerPort"]
    if merged["telemetry"]["bindPodIP"]:
        host = "[${env:K8S_POD_IP}]" if merged["listenAddress"].startswith("[") else "${env:K8S_POD_IP}"
        if telemetry != f"{host}:{port}":
            fail(f"telemetry.bindPodIP: service.telemetry.endpoint is {telemetry}, not {host}:{port}")
        env = {e["name"]: e for e in agent.get("env", [])}
        if get(env.get("K8S_POD_IP", {}), "valueFrom.fieldRef.fieldPath") != "status.podIP":
            fail("telemetry.bindPodIP needs K8S_POD_IP from status.podIP")
        said.append(f"telemetry at {telemetry}")
    elif telemetry != f"{merged['listenAddress']}:{port}":
        fail(f"service.telemetry.endpoint {telemetry} is not on listenAddress")
    for probe in ("livenessProbe", "readinessProbe"):
        http_get = get(agent, f"{probe}.httpGet", {})
        if http_get.get("port") != "telemetry" or http_get.get("scheme", "HTTP") != "HTTP":
            fail(f"{probe} must stay plain HTTP on the telemetry port")

    policy = check_network_policy(docs, merged, pod["metadata"]["labels"], workload["spec"]["selector"]["matchLabels"],
                                  config, ports)
    if policy:
        said.append(policy)
    if said:
        ok(f"receiver security: {'; '.join(said)}; probes plain HTTP on port telemetry ({label})")


def check_pod_ip_ipv6(binary: Path, workdir: Path) -> None:
    """telemetry.bindPodIP on an IPv6 cluster: the pod's address in brackets, valid for the agent."""
    values = {"listenAddress": "[::]", "telemetry": {"bindPodIP": True}}
    text, config = agent_config(documents(render(values)))
    endpoint = get(config, "service.telemetry.endpoint")
    if endpoint != "[${env:K8S_POD_IP}]:13133":
        fail(f"telemetry.bindPodIP with listenAddress [::]: endpoint {endpoint}")
    path = workdir / "config-ipv6-pod-ip.yaml"
    path.write_text(text)
    result = subprocess.run([str(binary), "validate", "--config", str(path)], capture_output=True, text=True,
                            timeout=60, env={**clean_env(), "K8S_POD_IP": "fd00::1"})
    if result.returncode != 0:
        fail(f"genai-cost-agent validate refuses {endpoint} with K8S_POD_IP=fd00::1:\n{result.stdout}{result.stderr}")
    ok(f"telemetry.bindPodIP on IPv6: {endpoint}, valid with K8S_POD_IP=fd00::1")


def test_certificates(workdir: Path) -> dict[str, bytes]:
    """A throwaway CA, a server certificate for 127.0.0.1 and localhost, and a client certificate."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def issue(subject: str, key, issuer_name, issuer_key, ca: bool, usage=None, names=()):
        builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(issuer_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if usage:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "helm-checks CA")])
    ca = issue("helm-checks CA", ca_key, ca_name, ca_key, True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = issue("genai-cost-agent", server_key, ca_name, ca_key, False, ExtendedKeyUsageOID.SERVER_AUTH,
                   [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = issue("an app", client_key, ca_name, ca_key, False, ExtendedKeyUsageOID.CLIENT_AUTH)
    out = {"tls.crt": server.public_bytes(serialization.Encoding.PEM), "tls.key": pem_key(server_key),
           "ca.crt": ca.public_bytes(serialization.Encoding.PEM),
           "client.crt": client.public_bytes(serialization.Encoding.PEM), "client.key": pem_key(client_key)}
    for name, data in out.items():
        (workdir / name).write_bytes(data)
    return out


TEST_TOKEN = "checks-token-1"


def write_secret_volume(directory: Path, files: dict[str, bytes]) -> None:
    """Writes a Secret volume's files as the kubelet does: into a new hidden directory, then swaps
    the `..data` link to it in one rename (the visible names are links through `..data`). An
    update therefore never shows a half-written file, and a subPath mount would never see it."""
    version = directory / f"..{time.time_ns()}"
    version.mkdir()
    for path, data in files.items():
        (version / path).write_bytes(data)
    link = directory / "..data_tmp"
    link.symlink_to(version.name)
    old = (directory / "..data").resolve() if (directory / "..data").is_symlink() else None
    os.replace(link, directory / "..data")
    if old is not None:
        shutil.rmtree(old)


PRICE_CATALOG_DIR = "/etc/genai-cost-agent-catalog"


def check_price_catalog(docs: list[dict], values: dict, label: str) -> None:
    """With priceCatalog.existingConfigMap: the ConfigMap mounted whole (no subPath) where the
    config's pricing.catalog_files point, one file a key, and the reload interval passed on;
    without it, neither."""
    merged = merge(render_defaults(), values)["priceCatalog"]
    workload = next(d for d in docs if d["kind"] in WORKLOAD_KINDS)
    spec = workload["spec"]["template"]["spec"]
    agent = next(c for c in spec["containers"] if c["name"] == "agent")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["name"]: m for m in agent.get("volumeMounts", [])}
    _, config = agent_config(docs)
    files = get(config, "pricing.catalog_files")
    if not merged["existingConfigMap"]:
        if "price-catalog" in volumes or files:
            fail(f"priceCatalog is off, yet a catalog volume or catalog_files is rendered ({label})")
        return
    volume, mount = volumes.get("price-catalog"), mounts.get("price-catalog")
    if volume is None or mount is None:
        fail(f"priceCatalog: no price-catalog volume mounted in the agent ({label})")
    if volume["configMap"]["name"] != merged["existingConfigMap"]:
        fail(f"priceCatalog: the volume names {volume['configMap']['name']} ({label})")
    if [item["key"] for item in volume["configMap"]["items"]] != merged["keys"]:
        fail(f"priceCatalog: the volume's items are not the keys ({label})")
    if mount["mountPath"] != PRICE_CATALOG_DIR or "subPath" in mount or not mount.get("readOnly"):
        fail(f"priceCatalog: mounted as {mount} ({label}); a whole read-only directory is needed for updates")
    if files != [f"{PRICE_CATALOG_DIR}/{key}" for key in merged["keys"]]:
        fail(f"pricing.catalog_files is {files} ({label})")
    if get(config, "pricing.reload_interval") != merged["reloadInterval"]:
        fail(f"pricing.reload_interval is {get(config, 'pricing.reload_interval')} ({label})")
    ok(f"price catalog ConfigMap {merged['existingConfigMap']} mounted at {PRICE_CATALOG_DIR}, "
       f"pricing.catalog_files {files} ({label})")


def materialize_price_catalog(text: str, label: str, workdir: Path) -> str:
    """The config with the catalog directory replaced by a local one holding the files as the
    kubelet lays out a ConfigMap: `data.json` the embedded snapshot (a full genai-prices file),
    any other key a one-provider file."""
    if PRICE_CATALOG_DIR not in text:
        return text
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower())
    directory = workdir / f"catalog-{slug}"
    directory.mkdir(parents=True)
    files = {}
    for key in get(yaml.safe_load(text), "pricing.catalog_files"):
        name = key.rsplit("/", 1)[1]
        files[name] = (ROOT / "src/pricing/genai_prices/snapshot.json").read_bytes() if name == "data.json" else \
            b'[{"id":"acme","api_pattern":"https://api\\\\.acme\\\\.example","models":' \
            b'[{"id":"acme-model","match":{"equals":"acme-model"},"prices":{"input_mtok":1,"output_mtok":2}}]}]'
    write_secret_volume(directory, files)
    for path in files:
        (directory / path).symlink_to(f"..data/{path}")
    return text.replace(f"{PRICE_CATALOG_DIR}/", f"{directory}/")


def materialize_secrets(docs: list[dict], text: str, label: str, workdir: Path) -> str:
    """The agent's config with each mounted Secret's directory replaced by a local one holding the
    Secret's files: the chart's own Secret as rendered, an existing one made up (a token file; a
    certificate signed by a throwaway CA). Every file the config names must be one of them."""
    workload = next(d for d in docs if d["kind"] in WORKLOAD_KINDS)
    rendered = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower())
    certificates = test_certificates(workdir) if not (workdir / "tls.crt").exists() else \
        {n: (workdir / n).read_bytes() for n in ("tls.crt", "tls.key", "ca.crt")}
    for name, (volume, mount) in secret_mounts(workload).items():
        directory = workdir / f"secrets-{slug}" / name
        directory.mkdir(parents=True)
        secret = rendered.get(volume["secret"]["secretName"])
        files = {}
        for item in volume["secret"]["items"]:
            if secret is not None:
                files[item["path"]] = secret["stringData"][item["key"]].encode()
            elif item["key"] in certificates:
                files[item["path"]] = certificates[item["key"]]
            else:
                files[item["path"]] = f"# tokens for the checks\n{TEST_TOKEN}\n\nchecks-token-2\n".encode()
        write_secret_volume(directory, files)
        for path in files:
            (directory / path).symlink_to(f"..data/{path}")
        text = text.replace(f"{mount['mountPath']}/", f"{directory}/")
    leftover = re.findall(r"/var/run/secrets/\S+", text)
    if leftover:
        fail(f"the config names {leftover}, which no Secret volume provides ({label})")
    return text


# --------------------------------------------------------------------------------------------
# PromQL: rules, dashboard queries, and the names they use.

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
            "offset", "inf", "nan", "atan2"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
TOKEN = re.compile(r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?[a-zA-Z]*|\.\d+)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=(){}\[\],@])
  | (?P<space>\s+)
""", re.VERBOSE)


def grafana_to_promql(expr: str) -> str:
    expr = re.sub(r"\$__(rate_interval|interval|range)\b", "5m", expr)
    expr = re.sub(r"\$\{?\w+\}?", ".*", expr)  # template variables only appear inside regex matchers
    return expr


def promql_names(expr: str) -> tuple[set[str], set[str]]:
    """Metric names and label names an expression uses (functions, keywords and durations aside)."""
    tokens = []
    position = 0
    while position < len(expr):
        match = TOKEN.match(expr, position)
        if not match:
            fail(f"cannot read the PromQL at {expr[position:position + 30]!r} in:\n{expr}")
        position = match.end()
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group()))
    metrics: set[str] = set()
    labels: set[str] = set()
    depth_brace = depth_bracket = 0
    grouping_depth = None
    paren_depth = 0
    for index, (kind, text) in enumerate(tokens):
        following = tokens[index + 1][1] if index + 1 < len(tokens) else ""
        if text == "(":
            paren_depth += 1
        elif text == ")":
            paren_depth -= 1
            if grouping_depth is not None and paren_depth < grouping_depth:
                grouping_depth = None
        elif text == "{":
            depth_brace += 1
        elif text == "}":
            depth_brace -= 1
        elif text == "[":
            depth_bracket += 1
        elif text == "]":
            depth_bracket -= 1
        if kind != "ident":
            continue
        if grouping_depth is not None:
            labels.add(text)
        elif text in GROUPING and following == "(":
            grouping_depth = paren_depth + 1
        elif depth_brace:
            labels.add(text)
        elif depth_bracket or text.lower() in KEYWORDS or following in ("(", "by", "without"):
            continue  # durations, keywords, functions and aggregations (`sum by (x) (...)`)
        else:
            metrics.add(text)
    return metrics, labels


def rules_of(docs: list[dict]) -> list[dict]:
    return one(docs, "PrometheusRule")["spec"]["groups"]


def dashboard_of(docs: list[dict]) -> dict:
    configmap = one(docs, "ConfigMap", "-dashboard")
    text = configmap["data"]["genai-cost.json"]
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        fail(f"the dashboard is not valid JSON: {err}")
    return {}


def dashboard_queries(dashboard: dict) -> list[tuple[str, str, list[str]]]:
    """(where, PromQL, legend labels) for every panel target and query variable."""
    queries = []

    def walk(panels: list[dict]) -> None:
        for panel in panels:
            for target in panel.get("targets", []):
                legend = re.findall(r"\{\{\s*(\w+)\s*\}\}", target.get("legendFormat", ""))
                queries.append((f"panel {panel['title']!r} {target['refId']}", target["expr"], legend))
            walk(panel.get("panels", []))

    walk(dashboard.get("panels", []))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        found = re.fullmatch(r"\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*", query)
        if not found:
            fail(f"dashboard variable {variable['name']}: unsupported query {query!r}")
        queries.append((f"variable ${variable['name']}", f"count by ({found.group(2)}) ({found.group(1)})", []))
    return queries


def check_dashboard(dashboard: dict, currency: str) -> None:
    titles = []

    def walk(panels: list[dict]) -> None:
        for panel in panels:
            titles.append(panel.get("title"))
            walk(panel.get("panels", []))
    walk(dashboard.get("panels", []))
    ids = [p.get("id") for p in dashboard.get("panels", [])]
    if len(ids) != len(set(ids)):
        fail("dashboard panel ids are not unique")
    if not dashboard.get("uid") or not dashboard.get("title"):
        fail("the dashboard needs a uid and a title")
    missing = [t for t in SEVEN_PANELS + ATTRIBUTION_PANELS if t not in titles]
    if missing:
        fail(f"dashboard panels missing: {missing}")
    for panel in dashboard["panels"]:
        if panel["type"] != "row" and (not panel.get("targets") or "gridPos" not in panel):
            fail(f"dashboard panel {panel['title']!r} has no queries or no position")
    text = json.dumps(dashboard)
    if currency != "USD" and ("_USD" in text or "currencyUSD" in text):
        fail(f"the dashboard still names USD although the currency is {currency}")
    ok(f"dashboard has the seven panels and spend by service/user/team/feature ({len(titles)} panels, {currency})")


def promtool(args: list[str], label: str) -> str:
    try:
        result = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        fail("promtool not found (Debian package `prometheus`)")
    except subprocess.TimeoutExpired:
        fail(f"promtool {args[0]} {args[1]} took more than 120 s ({label})")
    if result.returncode != 0:
        fail(f"promtool {' '.join(args[:2])} failed ({label}):\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


def check_rules_with_promtool(docs: list[dict], dashboard: dict, label: str, workdir: Path) -> None:
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower())
    rules_file = workdir / f"rules-{slug}.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": rules_of(docs)}, sort_keys=False))
    output = promtool(["check", "rules", str(rules_file)], label)
    ok(f"promtool check rules: {output.splitlines()[-1] if output else 'ok'} ({label})")
    # The dashboard's queries, with Grafana's variables filled in, must parse too.
    queries = dashboard_queries(dashboard)
    dashboard_rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": grafana_to_promql(expr)} for i, (_, expr, _) in enumerate(queries)]}]}
    dashboard_file = workdir / f"dashboard-{slug}.yaml"
    dashboard_file.write_text(yaml.safe_dump(dashboard_rules, sort_keys=False))
    promtool(["check", "rules", str(dashboard_file)], f"dashboard queries, {label}")
    ok(f"promtool parses all {len(queries)} dashboard queries ({label})")


def check_alerts_fire(docs: list[dict], workdir: Path) -> None:
    """promtool test rules: a few alerts fire on made-up series and stay quiet on calm ones."""
    rules_file = workdir / "rules-under-test.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": rules_of(docs)}, sort_keys=False))
    cost = 'gen_ai_client_cost_USD_total{service_name="chat-app",gen_ai_cost_type="input",pod="a"}'
    tokens = 'gen_ai_client_token_usage_sum{service_name="chat-app",gen_ai_token_type="%s",pod="a"}'
    tests = {
        "rule_files": [rules_file.name],
        "evaluation_interval": "1m",
        "tests": [
            {   # 2 USD per minute for two hours: 240 USD over the day > 100.
                "interval": "1m",
                "input_series": [{"series": cost, "values": "0+2x120"}],
                "alert_rule_test": [
                    {"eval_time": "10m", "alertname": "GenAIDailySpendHigh", "exp_alerts": []},
                    {"eval_time": "120m", "alertname": "GenAIDailySpendHigh", "exp_alerts": [{
                        "exp_labels": {"severity": "warning"},
                        "exp_annotations": {
                            "summary": "Generative-AI spend over the last 24 hours is above 100 USD.",
                            "description": "Model calls cost 240.00 USD over the last 24 hours (threshold 100 USD)."}}]},
                ],
            },
            {   # Input tokens without any cache reads: hit rate 0 < 0.3; with 50% cache reads: quiet.
                "interval": "1m",
                "input_series": [
                    {"series": tokens % "input", "values": "0+10000x180"},
                    {"series": tokens.replace("chat-app", "cached-app") % "input", "values": "0+10000x180"},
                    {"series": tokens.replace("chat-app", "cached-app") % "cache_read", "values": "0+5000x180"},
                ],
                "alert_rule_test": [{"eval_time": "150m", "alertname": "GenAICacheHitRateLow", "exp_alerts": [{
                    "exp_labels": {"severity": "info", "service_name": "chat-app"},
                    "exp_annotations": {"summary": "Prompt-cache hit rate of chat-app is below 0.3.",
                                        "description": "Cache reads were 0% of input tokens over the last hour."}}]}],
            },
            {   # A queue 90% full for ten minutes; another agent's at 10%.
                "interval": "1m",
                "input_series": [
                    {"series": 'genai_cost_agent_exporter_queue_size{namespace="o",pod="a"}', "values": "90x15"},
                    {"series": 'genai_cost_agent_exporter_queue_capacity{namespace="o",pod="a"}', "values": "100x15"},
                    {"series": 'genai_cost_agent_exporter_queue_size{namespace="o",pod="b"}', "values": "10x15"},
                    {"series": 'genai_cost_agent_exporter_queue_capacity{namespace="o",pod="b"}', "values": "100x15"},
                ],
                "alert_rule_test": [{"eval_time": "10m", "alertname": "GenAICostAgentQueueNearlyFull", "exp_alerts": [{
                    "exp_labels": {"severity": "warning", "namespace": "o", "pod": "a"},
                    "exp_annotations": {
                        "summary": "genai-cost-agent a export queue is 90% full.",
                        "description": "When it is full the agent refuses new data. The backend may be slow or down."}}]}],
            },
            {   # Refused spans on one agent.
                "interval": "1m",
                "input_series": [
                    {"series": f'genai_cost_agent_receiver_refused_{item}_total{{namespace="o",pod="a"}}',
                     "values": "0+5x20" if item == "spans" else "0x20"}
                    for item in ("spans", "metric_points", "log_records")],
                "alert_rule_test": [{"eval_time": "15m", "alertname": "GenAICostAgentRefusingData", "exp_alerts": [{
                    "exp_labels": {"severity": "warning", "namespace": "o", "pod": "a"},
                    "exp_annotations": {
                        "summary": "genai-cost-agent a refuses data: its export queue is full.",
                        "description": "Senders are told to retry; if they give up, telemetry is lost. The backend "
                                       "may be slow or down, or the queue too small."}}]}],
            },
            {   # Two agents see 300 + 400 of the 1,000 Sonnet tokens billed (coverage 0.7), and price
                # them at 0.0021 + 0.0028 where the bill says 0.006 for 1,000: per token 0.0049/0.7
                # = 0.007 against 0.006, 16.7% off; GPT-4o mini is fully seen and priced right.
                "interval": "5m",
                "input_series": [
                    {"series": f'genai_cost_agent_reconciliation_{name}{{provider="{provider}",model="{model}",pod="{pod}"}}',
                     "values": f"{value}x40"}
                    for provider, model, pod, name, value in [
                        ("anthropic", "claude-sonnet-4-6", "a", "agent_tokens", 300),
                        ("anthropic", "claude-sonnet-4-6", "b", "agent_tokens", 400),
                        ("anthropic", "claude-sonnet-4-6", "a", "provider_tokens", 1000),
                        ("anthropic", "claude-sonnet-4-6", "b", "provider_tokens", 1000),
                        ("anthropic", "claude-sonnet-4-6", "a", "agent_cost", 0.0021),
                        ("anthropic", "claude-sonnet-4-6", "b", "agent_cost", 0.0028),
                        ("anthropic", "claude-sonnet-4-6", "a", "provider_cost", 0.006),
                        ("anthropic", "claude-sonnet-4-6", "b", "provider_cost", 0.006),
                        ("openai", "gpt-4o-mini", "a", "agent_tokens", 1000),
                        ("openai", "gpt-4o-mini", "a", "provider_tokens", 1000),
                        ("openai", "gpt-4o-mini", "a", "agent_cost", 0.0002),
                        ("openai", "gpt-4o-mini", "a", "provider_cost", 0.0002),
                    ]],
                "alert_rule_test": [
                    {"eval_time": "100m", "alertname": "GenAIBillCoverageLow", "exp_alerts": []},
                    {"eval_time": "150m", "alertname": "GenAIBillCoverageLow", "exp_alerts": [{
                        "exp_labels": {"severity": "warning", "provider": "anthropic", "model": "claude-sonnet-4-6"},
                        "exp_annotations": {
                            "summary": "The agents see only 70% of the claude-sonnet-4-6 tokens anthropic bills for.",
                            "description": "Traffic bypasses the agents or their instrumentation (an app without "
                                           "OpenTelemetry, a node without an agent, a key used elsewhere); the "
                                           "per-request figures under-report the bill."}}]},
                    {"eval_time": "150m", "alertname": "GenAIBillPriceMismatch", "exp_alerts": [{
                        "exp_labels": {"severity": "warning", "provider": "anthropic", "model": "claude-sonnet-4-6"},
                        "exp_annotations": {
                            "summary": "The agents price claude-sonnet-4-6 differently from anthropic's bill.",
                            "description": "Per token, the agents' cost is off the bill by 16.67%: a price in the "
                                           "catalog is wrong or stale, or a discount applies."}}]},
                ],
            },
            {   # Per-request cost jumps from 0.02 to 0.20 after a calm day.
                "interval": "5m",
                "input_series": [
                    {"series": 'gen_ai_client_request_cost_USD_sum{service_name="chat-app"}',
                     "values": "0+0.2x288 57.6+2x6"},
                    {"series": 'gen_ai_client_request_cost_USD_count{service_name="chat-app"}',
                     "values": "0+10x294"},
                ],
                "alert_rule_test": [
                    {"eval_time": "1430m", "alertname": "GenAIRequestCostSpike", "exp_alerts": []},
                    {"eval_time": "1470m", "alertname": "GenAIRequestCostSpike", "exp_alerts": [{
                        "exp_labels": {"severity": "warning", "service_name": "chat-app"},
                        "exp_annotations": {
                            "summary": "Cost per request of chat-app is more than 3 times its daily average.",
                            "description": "Average cost per model call over 15 minutes is 0.2000 USD."}}]},
                ],
            },
        ],
    }
    test_file = workdir / "alerts-test.yaml"
    test_file.write_text(yaml.safe_dump(tests, sort_keys=False))
    promtool(["test", "rules", str(test_file)], "alert unit tests")
    ok("promtool test rules: GenAIDailySpendHigh, GenAICacheHitRateLow, GenAIRequestCostSpike, "
       "GenAICostAgentQueueNearlyFull, GenAICostAgentRefusingData, GenAIBillCoverageLow, GenAIBillPriceMismatch "
       "fire on made-up series")


# --------------------------------------------------------------------------------------------
# The names the agent really emits.

def span(trace: str, span_id: str, model: str, provider: str, usage: dict[str, int], extra: dict[str, str],
         error: bool = False) -> dict:
    attributes = [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                  {"key": "gen_ai.provider.name", "value": {"stringValue": provider}},
                  {"key": "gen_ai.request.model", "value": {"stringValue": model}}]
    attributes += [{"key": f"gen_ai.usage.{k}", "value": {"intValue": str(v)}} for k, v in usage.items()]
    attributes += [{"key": k, "value": {"stringValue": v}} for k, v in extra.items()]
    body = {"traceId": trace, "spanId": span_id, "name": f"chat {model}", "kind": 3,
            "startTimeUnixNano": "1767225600000000000", "endTimeUnixNano": "1767225601500000000",
            "attributes": attributes}
    if error:
        body["status"] = {"code": 2, "message": "failed"}
    return body


def traces_request() -> bytes:
    who = {"user.id": "user-1", "feature": "answers"}
    cached = {"input_tokens": 23000, "output_tokens": 1500, "cache_read.input_tokens": 8000,
              "cache_creation.input_tokens": 10000}
    spans = [
        span("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "claude-sonnet-4-6", "anthropic", cached, who),
        # Throttled: no usage, counted in operation.duration with its error.type.
        span("6c9f0008a9149214e37ac744924ad71d", "fff2ac8fd4d2c285", "claude-sonnet-4-6", "anthropic", {},
             {**who, "error.type": "rate_limit_error"}, error=True),
        # Failed after it was billed: cost with an error.type.
        span("8e1b222acb36b436a59ce966b46cf93f", "b1b4ce0bf6f4e4a7", "claude-sonnet-4-6", "anthropic",
             {"input_tokens": 1200, "output_tokens": 300}, {**who, "error.type": "timeout"}, error=True),
        # Unknown model: unpriced.
        span("7d0a1119ba25a325f48bd855a35be82e", "a0a3bd9ae5e3d396", "acme-unknown-model", "acme",
             {"input_tokens": 100, "output_tokens": 10}, {}),
    ]
    request = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "chat-app"}},
                                    {"key": "team", "value": {"stringValue": "search"}}]},
        "scopeSpans": [{"scope": {"name": "helm-checks"}, "spans": spans}]}]}
    return json.dumps(request).encode()


# 127.0.0.1 only: never through a proxy from the environment.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(url: str, body: bytes | None = None) -> str:
    if not url.startswith("http://127.0.0.1:"):
        fail(f"refusing to contact {url}: 127.0.0.1 only")
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET",
                                     headers={"Content-Type": "application/json"} if body is not None else {})
    with LOCAL.open(request, timeout=10) as response:
        return response.read().decode()


def parse_exposition(text: str) -> dict[str, set[str]]:
    """Sample names (and family names) to the label names they carry."""
    names: dict[str, set[str]] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            names.setdefault(line.split()[2], set())
            continue
        if not line or line.startswith("#"):
            continue
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        if not name:
            fail(f"unreadable exposition line: {line!r}")
        labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', line[name.end():].split("} ", 1)[0]))
        names.setdefault(name.group(), set()).update(labels)
        for suffix in ("_bucket", "_sum", "_count"):
            if name.group().endswith(suffix):
                names.setdefault(name.group()[: -len(suffix)], set()).update(labels)
    return names


class AdminApi:
    """A fake of both providers' admin reports on 127.0.0.1: yesterday, one model each, in one page."""

    def __init__(self) -> None:
        import http.server
        import threading
        yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        start = int(time.time()) // 86400 * 86400 - 86400
        pages = {
            "/v1/organizations/usage_report/messages": {"data": [{
                "starting_at": f"{yesterday}T00:00:00Z", "results": [{
                    "model": "claude-sonnet-4-6", "uncached_input_tokens": 1000, "output_tokens": 100}]}]},
            "/v1/organizations/cost_report": {"data": [{
                "starting_at": f"{yesterday}T00:00:00Z", "results": [{
                    "model": "claude-sonnet-4-6", "amount": "0.45", "currency": "USD"}]}]},
            "/v1/organization/usage/completions": {"data": [{
                "start_time": start, "results": [{"model": "gpt-4o-mini", "input_tokens": 1000, "output_tokens": 100}]}]},
            "/v1/organization/costs": {"data": [{
                "start_time": start, "results": [{"amount": {"value": 0.0002, "currency": "usd"},
                                                  "line_item": "gpt-4o-mini, input"}]}]},
        }

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                authorized = (self.headers.get("x-api-key") == ADMIN_KEY
                              or self.headers.get("authorization") == f"Bearer {ADMIN_KEY}")
                page = pages.get(self.path.split("?")[0])
                status = 200 if authorized and page else 401 if not authorized else 404
                body = json.dumps({**(page or {}), "has_more": False, "next_page": None}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def emitted_names(binary: Path, config_text: str, label: str, workdir: Path) -> dict[str, set[str]]:
    """Start the agent on 127.0.0.1 with the chart's configuration, send spans, scrape both endpoints."""
    config = yaml.safe_load(config_text)
    admin_api = AdminApi() if "reconcile" in config else None
    if admin_api:
        config = merge(config, {"reconcile": {"anthropic": {"base_url": admin_api.url},
                                              "openai": {"base_url": admin_api.url}}})
    config = merge(config, {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "127.0.0.1:0"},
                                             "http": {"enabled": True, "endpoint": "127.0.0.1:0"}}}},
        "service": {"telemetry": {"endpoint": "127.0.0.1:0", "logs": {"format": "json", "level": "info"}},
                    "shutdown_timeout": "2s"},
        "metrics": {"prometheus": {"enabled": True, "endpoint": "127.0.0.1:0"}},
        "exporters": {"otlp": {"endpoint": "", "headers": {}}},
    })
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower())
    config_file = workdir / f"live-{slug}.yaml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    log_file = workdir / f"live-{slug}.log"
    with open(log_file, "w") as log:
        process = subprocess.Popen([str(binary), "--config", str(config_file)], stdout=subprocess.DEVNULL,
                                   stderr=log, env=clean_env(), start_new_session=True)
    try:
        wanted = {"OTLP/HTTP receiver listening": "http", "derived metrics for Prometheus at /metrics": "prometheus",
                  "health and metrics at /healthz, /readyz, /metrics": "telemetry"}
        addresses: dict[str, str] = {}
        deadline = time.monotonic() + 20
        while len(addresses) < len(wanted):
            if process.poll() is not None:
                fail(f"the agent exited with {process.returncode} at start ({label}):\n{log_file.read_text()}")
            if time.monotonic() > deadline:
                fail(f"the agent did not log its addresses within 20 s ({label}):\n{log_file.read_text()}")
            for line in log_file.read_text().splitlines():
                try:
                    fields = json.loads(line).get("fields", {})
                except json.JSONDecodeError:
                    continue
                if fields.get("message") in wanted and "address" in fields:
                    address = fields["address"]
                    if not address.startswith("127.0.0.1:"):
                        fail(f"the agent listens on {address}, not on 127.0.0.1")
                    addresses[wanted[fields["message"]]] = address
            time.sleep(0.05)
        answer = http(f"http://{addresses['http']}/v1/traces", traces_request())
        if json.loads(answer) != {}:
            fail(f"the agent answered the traces request with {answer}")
        deadline = time.monotonic() + 15
        while True:
            derived = http(f"http://{addresses['prometheus']}/metrics")
            if "threshold_exceeded_total" in derived and "requests_unpriced_total" in derived:
                break
            if time.monotonic() > deadline:
                fail(f"the derived metrics did not appear within 15 s ({label}):\n{derived}")
            time.sleep(0.1)
        own = http(f"http://{addresses['telemetry']}/metrics")
        if admin_api:
            deadline = time.monotonic() + 15
            while "genai_cost_agent_reconciliation_cost_ratio" not in own:
                if time.monotonic() > deadline:
                    fail(f"no reconciliation on /metrics within 15 s ({label}):\n{own}")
                time.sleep(0.1)
                own = http(f"http://{addresses['telemetry']}/metrics")
            if ADMIN_KEY in own or ADMIN_KEY in log_file.read_text():
                fail(f"the admin key shows on /metrics or in the log ({label})")
        names = parse_exposition(derived)
        for name, labels in parse_exposition(own).items():
            names.setdefault(name, set()).update(labels)
        ok(f"agent on 127.0.0.1 priced the spans; scraped {len(names)} metric names from /metrics "
           f"(telemetry {addresses['telemetry']}, derived {addresses['prometheus']}) ({label})")
        return names
    finally:
        if admin_api:
            admin_api.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def https_post(address: str, body: bytes, context: Any, token: str | None) -> int:
    """POST /v1/traces over TLS to 127.0.0.1; the HTTP status."""
    import http.client
    if not address.startswith("127.0.0.1:"):
        fail(f"refusing to contact {address}: 127.0.0.1 only")
    host, port = address.rsplit(":", 1)
    connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    try:
        connection.request("POST", "/v1/traces", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def check_secure_agent(binary: Path, config_text: str, values: dict, label: str, workdir: Path) -> None:
    """Starts the agent on 127.0.0.1 with the chart's receiver security (the Secrets' files laid out as
    the kubelet mounts them), and checks what a sender sees: the TLS version and certificates, 401
    without a token, 200 with one, a rotated token file taking effect, the telemetry port open."""
    import ssl
    merged = merge(render_defaults(), values)
    config = merge(yaml.safe_load(config_text), {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "127.0.0.1:0"},
                                             "http": {"enabled": True, "endpoint": "127.0.0.1:0"}}}},
        "service": {"telemetry": {"endpoint": "127.0.0.1:0", "logs": {"format": "json", "level": "info"}},
                    "shutdown_timeout": "2s"},
        "metrics": {"prometheus": {"enabled": False}},
        "exporters": {"otlp": {"endpoint": "", "headers": {}}},
    })
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower())
    config_file = workdir / f"secure-{slug}.yaml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    log_file = workdir / f"secure-{slug}.log"
    with open(log_file, "w") as log:
        process = subprocess.Popen([str(binary), "--config", str(config_file)], stdout=subprocess.DEVNULL,
                                   stderr=log, env=clean_env(), start_new_session=True)
    try:
        wanted = {"OTLP/HTTP receiver listening": "http", "health and metrics at /healthz, /readyz, /metrics": "telemetry"}
        addresses: dict[str, str] = {}
        deadline = time.monotonic() + 20
        while len(addresses) < len(wanted):
            if process.poll() is not None:
                fail(f"the agent exited with {process.returncode} at start ({label}):\n{log_file.read_text()}")
            if time.monotonic() > deadline:
                fail(f"the agent did not log its addresses within 20 s ({label}):\n{log_file.read_text()}")
            for line in log_file.read_text().splitlines():
                try:
                    fields = json.loads(line).get("fields", {})
                except json.JSONDecodeError:
                    continue
                if fields.get("message") in wanted and "address" in fields:
                    addresses[wanted[fields["message"]]] = fields["address"]
            time.sleep(0.05)
        tls = merged["tls"]
        context = ssl.create_default_context(cafile=str(workdir / "ca.crt"))
        if tls["clientAuth"]:
            context.load_cert_chain(str(workdir / "client.crt"), str(workdir / "client.key"))
        body = traces_request()
        said = []
        if https_post(addresses["http"], body, context, None) != 401:
            fail(f"a request without a token was not answered 401 ({label})")
        if https_post(addresses["http"], body, context, "not-a-token") != 401:
            fail(f"a request with a wrong token was not answered 401 ({label})")
        if https_post(addresses["http"], body, context, TEST_TOKEN) != 200:
            fail(f"a request with the Secret's token was not accepted ({label})")
        said.append("HTTPS 401 without or with a wrong token, 200 with the Secret's")
        if tls["clientAuth"]:
            bare = ssl.create_default_context(cafile=str(workdir / "ca.crt"))
            try:
                status = https_post(addresses["http"], body, bare, TEST_TOKEN)
            except (ssl.SSLError, ConnectionError, OSError):
                status = None
            if status is not None:
                fail(f"a sender without a client certificate got {status} ({label})")
            said.append("refused without a client certificate")
        if str(tls["minVersion"]) == "1.3":
            old = ssl.create_default_context(cafile=str(workdir / "ca.crt"))
            old.maximum_version = ssl.TLSVersion.TLSv1_2
            try:
                status = https_post(addresses["http"], body, old, TEST_TOKEN)
            except (ssl.SSLError, ConnectionError, OSError):
                status = None
            if status is not None:
                fail(f"a TLS 1.2 sender was admitted although min_version is 1.3 ({label})")
            said.append("TLS 1.2 refused")
        # Rotate the token Secret as the kubelet does; the agent re-reads the file within a second or so.
        token_dir = Path(get(config, "receivers.otlp.auth.bearer_token_file")).parent
        key = Path(get(config, "receivers.otlp.auth.bearer_token_file")).name
        write_secret_volume(token_dir, {key: b"rotated-token\n"})
        deadline = time.monotonic() + 10
        while https_post(addresses["http"], body, context, "rotated-token") != 200:
            if time.monotonic() > deadline:
                fail(f"the rotated token was not accepted within 10 s ({label})")
            time.sleep(0.2)
        if https_post(addresses["http"], body, context, TEST_TOKEN) != 401:
            fail(f"the token removed from the Secret is still accepted ({label})")
        said.append("a rotated token Secret takes effect without a restart")
        http(f"http://{addresses['telemetry']}/readyz")  # plain HTTP, no token: raises unless 200
        said.append("/readyz answers over plain HTTP without a token")
        ok(f"agent with the chart's security: {'; '.join(said)} ({label})")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def check_names(docs: list[dict], dashboard: dict, names: dict[str, set[str]], label: str) -> None:
    groups = rules_of(docs)
    recorded = {r["record"] for g in groups for r in g["rules"] if "record" in r}
    checked: list[tuple[str, str, list[str]]] = []
    for group in groups:
        for rule in group["rules"]:
            checked.append((f"rule {rule.get('alert') or rule.get('record')}", rule["expr"], []))
    checked += dashboard_queries(dashboard)
    used: set[str] = set()
    problems = []
    for where, expr, legend in checked:
        metrics, labels = promql_names(grafana_to_promql(expr))
        if not metrics:
            problems.append(f"{where}: no metric found in {expr!r}")
        unknown = sorted(m for m in metrics if m not in names and m not in recorded)
        if unknown:
            problems.append(f"{where}: the agent emits no {', '.join(unknown)}")
        known_labels = set(TARGET_LABELS)
        for metric in metrics:
            known_labels |= names.get(metric, set())
        missing = sorted(set(labels) - known_labels) + sorted(set(legend) - known_labels)
        if missing and not (metrics & recorded):  # a recorded series' labels are the rule's business
            problems.append(f"{where}: label(s) {', '.join(missing)} not on {', '.join(sorted(metrics))}")
        used |= metrics
    if problems:
        fail("names the alerts/dashboard use that the agent does not emit:\n    " + "\n    ".join(problems))
    agent_used = sorted(used - recorded)
    ok(f"all {len(checked)} rule/dashboard queries use only names the agent emits ({len(agent_used)} names: "
       f"{', '.join(agent_used)}) ({label})")


# --------------------------------------------------------------------------------------------
# The Dockerfile, read (there is no container engine here to build it).

def dockerfile_instructions() -> list[tuple[str, str]]:
    path = ROOT / "Dockerfile"
    if not path.exists():
        fail("no Dockerfile at the repository root")
    joined = re.sub(r"\\\n", " ", path.read_text())
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    return instructions


def check_dockerfile(binary: Path, workdir: Path) -> None:
    instructions = dockerfile_instructions()
    stages = [rest for word, rest in instructions if word == "FROM"]
    if len(stages) < 2:
        fail("the Dockerfile must be multi-stage (a builder and a small runtime)")
    runtime = [i for i, (word, _) in enumerate(instructions) if word == "FROM"][-1]
    final = instructions[runtime:]
    env: dict[str, str] = {}
    for word, rest in final:
        if word == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", rest)))
    users = [rest for word, rest in final if word == "USER"]
    if not users or users[-1].split(":")[0] in ("0", "root"):
        fail("the runtime stage must switch to a non-root USER")
    values = render_defaults()
    if users[-1].split(":")[0] != str(values["securityContext"]["runAsUser"]):
        fail(f"Dockerfile USER {users[-1]} differs from the chart's runAsUser {values['securityContext']['runAsUser']}")
    exposed = {int(p.split("/")[0]) for word, rest in final if word == "EXPOSE" for p in rest.split()}
    wanted = {values["ports"]["otlpGrpc"]["containerPort"], values["ports"]["otlpHttp"]["containerPort"],
              values["ports"]["telemetry"]["containerPort"]}
    if not wanted <= exposed:
        fail(f"the Dockerfile exposes {sorted(exposed)}, not {sorted(wanted)}")
    copies = [rest.split() for word, rest in instructions if word == "COPY"]
    if ["config.yaml", "/etc/genai-cost-agent/config.yaml"] not in copies:
        fail("the default config.yaml is not copied to /etc/genai-cost-agent/config.yaml")
    for args in copies:
        sources = [a for a in args[:-1] if not a.startswith("--")]
        if any(a.startswith("--from") for a in args):
            continue
        for source in sources:
            if not (ROOT / source).exists():
                fail(f"the Dockerfile copies {source}, which does not exist")
    ignore_file = ROOT / ".dockerignore"
    ignored = [line.strip().rstrip("/") for line in ignore_file.read_text().splitlines()
               if line.strip() and not line.strip().startswith("#")] if ignore_file.exists() else []
    for needed in ("src", "Cargo.toml", "Cargo.lock", "benches", "config.yaml"):
        if needed in ignored:
            fail(f".dockerignore excludes {needed}, which the build needs")
    rust = re.search(r"^ARG RUST_VERSION=(\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    declared = re.search(r'^rust-version\s*=\s*"([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M)
    if rust and declared and rust.group(1) != declared.group(1):
        print(f"  !!  Dockerfile RUST_VERSION {rust.group(1)} differs from Cargo.toml rust-version "
              f"{declared.group(1)}", flush=True)
    # The image's default config, with the image's environment, must be valid.
    result = subprocess.run([str(binary), "validate", "--config", str(ROOT / "config.yaml")], capture_output=True,
                            text=True, timeout=60, env={**clean_env(), **env})
    if result.returncode != 0:
        fail(f"the image's config.yaml with its ENV does not validate:\n{result.stdout}{result.stderr}")
    listen = {k: v for k, v in env.items() if k.endswith("_ENDPOINT")}
    if not all(v.startswith("0.0.0.0:") for v in listen.values()) or len(listen) < 3:
        fail(f"the image must listen beyond localhost: {listen}")
    ok(f"Dockerfile: {len(stages)} stages, USER {users[-1]}, EXPOSE {sorted(exposed)}, "
       f"config at /etc/genai-cost-agent/config.yaml valid with {', '.join(f'{k}={v}' for k, v in listen.items())} "
       "(read only: not built, no container engine here)")


# --------------------------------------------------------------------------------------------

def main() -> int:
    started = time.monotonic()
    if not (CHART / "Chart.yaml").exists():
        fail(f"no chart at {CHART}")
    if shutil.which("promtool") is None:
        fail("promtool not found (Debian package `prometheus`)")
    print(f"helm_checks: chart {CHART.relative_to(ROOT)}, Helm SDK {helm.helm_sdk_version()} "
          f"(helm-c {helm.helm_c_version()}), Kubernetes schemas {KUBE_VERSION}")

    section("agent binary")
    binary = agent_binary()
    ok(f"using {binary}")

    def on_alarm(*_: Any) -> None:
        raise CheckFailed(f"time limit of {TIME_LIMIT_SECONDS} s reached")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TIME_LIMIT_SECONDS)

    with tempfile.TemporaryDirectory(prefix="helm-checks-") as tmp:
        workdir = Path(tmp)
        rendered_docs: dict[str, list[dict]] = {}
        configs: dict[str, str] = {}
        local_configs: dict[str, str] = {}
        for label, values in SCENARIOS.items():
            section(f"values: {label}")
            lint(values, label)
            docs = documents(render(values))
            rendered_docs[label] = docs
            ok(f"rendered {len(docs)} manifests: {', '.join(kinds(docs))}")
            validate_manifests(docs, label)
            check_invariants(docs, values, label)
            check_security(docs, values, label)
            check_price_catalog(docs, values, label)
            text, _ = agent_config(docs)
            configs[label] = text
            local = materialize_price_catalog(materialize_secrets(docs, text, label, workdir), label, workdir)
            local_configs[label] = local
            validate_config(binary, local, label, workdir)
            if merge(render_defaults(), values)["auth"]["enabled"]:
                check_secure_agent(binary, local, values, label, workdir)

        section("Dockerfile")
        check_dockerfile(binary, workdir)

        section("values the chart refuses, the checksum annotation, the pod IP on IPv6")
        check_refusals()
        check_checksum()
        check_pod_ip_ipv6(binary, workdir)

        for label in ("daemonset, every option on", "gateway, every option on"):
            docs = rendered_docs[label]
            currency = get(yaml.safe_load(configs[label]), "pricing.currency", "USD")
            section(f"alerts and dashboard: {label} (currency {currency})")
            dashboard = dashboard_of(docs)
            check_dashboard(dashboard, currency)
            check_rules_with_promtool(docs, dashboard, label, workdir)
            if currency == "USD":
                check_alerts_fire(docs, workdir)
            names = emitted_names(binary, local_configs[label], label, workdir)
            check_names(docs, dashboard, names, label)

    signal.alarm(0)
    print(f"\nall Helm chart checks passed in {time.monotonic() - started:.1f} s")
    print(f"helm_checks: {PASSED[0]} passed, 0 failed")
    return 0


def failed(message: str) -> None:
    sys.stdout.flush()
    print(f"\nFAILED: {message}", file=sys.stderr, flush=True)
    print(f"helm_checks: {PASSED[0]} passed, 1 failed", flush=True)
    sys.exit(1)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckFailed as failure:
        failed(str(failure))
    except helm.HelmError as err:
        failed(f"Helm: {type(err).__name__}: {err}")
    except (OSError, subprocess.SubprocessError, urllib.error.URLError, yaml.YAMLError) as err:
        failed(f"{type(err).__name__}: {err}")
