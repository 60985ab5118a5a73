{{/* Names and labels. */}}
{{- define "genai-cost-agent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "genai-cost-agent.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "genai-cost-agent.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "genai-cost-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "genai-cost-agent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ include "genai-cost-agent.mode" . }}
{{- end }}

{{- define "genai-cost-agent.labels" -}}
helm.sh/chart: {{ include "genai-cost-agent.chart" . }}
{{ include "genai-cost-agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: genai-cost-agent
{{- end }}

{{- define "genai-cost-agent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "genai-cost-agent.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The mode, checked. */}}
{{- define "genai-cost-agent.mode" -}}
{{- if not (has .Values.mode (list "daemonset" "gateway")) }}
{{- fail (printf "mode must be daemonset or gateway, not %q" (toString .Values.mode)) }}
{{- end }}
{{- .Values.mode }}
{{- end }}

{{/* Whether the agent serves its derived metrics for Prometheus. */}}
{{- define "genai-cost-agent.prometheusEnabled" -}}
{{- if dig "metrics" "prometheus" "enabled" false (.Values.config | default dict) }}true{{ end }}
{{- end }}

{{/* The catalog's currency: it is part of the money metrics' Prometheus names. */}}
{{- define "genai-cost-agent.currency" -}}
{{- $currency := dig "pricing" "currency" "USD" (.Values.config | default dict) | toString }}
{{- if not (regexMatch "^[A-Z]{3}$" $currency) }}
{{- fail (printf "config.pricing.currency must be an ISO 4217 code such as USD, not %q" $currency) }}
{{- end }}
{{- $currency }}
{{- end }}

{{/*
A duration as the agent reads it (200ms, 1.5s, 1m, 1h) in whole seconds, rounded up.
Fails on anything else.
*/}}
{{- define "genai-cost-agent.durationSeconds" -}}
{{- $text := toString . | trim }}
{{- if not (regexMatch "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$" $text) }}
{{- fail (printf "cannot read the duration %q (write e.g. 500ms, 10s, 1m)" $text) }}
{{- end }}
{{- $number := regexFind "^[0-9.]+" $text }}
{{- $unit := trimPrefix $number $text }}
{{- $scale := get (dict "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0) $unit }}
{{- mulf (float64 $number) $scale | ceil | int }}
{{- end }}

{{/* Where the tokens' and the certificate's Secrets are mounted (whole directories, never subPath). */}}
{{- define "genai-cost-agent.authDir" -}}
/var/run/secrets/genai-cost-agent/auth
{{- end }}

{{- define "genai-cost-agent.priceCatalogDir" -}}
/etc/genai-cost-agent-catalog
{{- end }}

{{- define "genai-cost-agent.tlsDir" -}}
/var/run/secrets/genai-cost-agent/tls
{{- end }}

{{/* The Secret holding the receivers' bearer tokens, checked. */}}
{{- define "genai-cost-agent.authSecretName" -}}
{{- $auth := .Values.auth }}
{{- if $auth.createSecret }}
{{- if $auth.existingSecret }}
{{- fail "auth: set auth.existingSecret or auth.createSecret, not both" }}
{{- end }}
{{- if not $auth.tokens }}
{{- fail "auth.createSecret needs at least one token in auth.tokens" }}
{{- end }}
{{- printf "%s-auth" (include "genai-cost-agent.fullname" .) }}
{{- else if $auth.existingSecret }}
{{- $auth.existingSecret }}
{{- else }}
{{- fail "auth.enabled needs auth.existingSecret (a Secret with the tokens, one a line, under auth.secretKey), or auth.createSecret with auth.tokens (for tests)" }}
{{- end }}
{{- end }}

{{/* The kubernetes.io/tls Secret of the receivers, checked. */}}
{{- define "genai-cost-agent.tlsSecretName" -}}
{{- $tls := .Values.tls }}
{{- if and $tls.certManager.enabled (not $tls.certManager.issuerRef.name) }}
{{- fail "tls.certManager.enabled needs tls.certManager.issuerRef.name (an Issuer or ClusterIssuer)" }}
{{- end }}
{{- if $tls.existingSecret }}
{{- $tls.existingSecret }}
{{- else if $tls.certManager.enabled }}
{{- printf "%s-tls" (include "genai-cost-agent.fullname" .) }}
{{- else }}
{{- fail "tls.enabled needs tls.existingSecret (a kubernetes.io/tls Secret with tls.crt and tls.key, and ca.crt for tls.clientAuth) or tls.certManager.enabled" }}
{{- end }}
{{- end }}

{{/*
service.telemetry.endpoint: `listenAddress`, or with telemetry.bindPodIP the pod's IP, which
the agent expands from K8S_POD_IP (downward API) when it reads its configuration.
*/}}
{{- define "genai-cost-agent.telemetryEndpoint" -}}
{{- $port := int .Values.ports.telemetry.containerPort }}
{{- if .Values.telemetry.bindPodIP }}
{{- if not .Values.downwardApiEnv }}
{{- fail "telemetry.bindPodIP needs downwardApiEnv (the pod's IP comes from K8S_POD_IP)" }}
{{- end }}
{{- if hasPrefix "[" .Values.listenAddress }}
{{- printf "[${env:K8S_POD_IP}]:%d" $port }}
{{- else }}
{{- printf "${env:K8S_POD_IP}:%d" $port }}
{{- end }}
{{- else }}
{{- printf "%s:%d" .Values.listenAddress $port }}
{{- end }}
{{- end }}

{{/*
The agent's configuration: the user's `config`, with the listen addresses set from
`listenAddress` and `ports` so that container ports, probes and Services match.
*/}}
{{- define "genai-cost-agent.config" -}}
{{- $listen := .Values.listenAddress }}
{{- $ports := .Values.ports }}
{{- $config := deepCopy (.Values.config | default dict) }}
{{- $grpc := dict "enabled" $ports.otlpGrpc.enabled "endpoint" (printf "%s:%d" $listen (int $ports.otlpGrpc.containerPort)) }}
{{- $http := dict "enabled" $ports.otlpHttp.enabled "endpoint" (printf "%s:%d" $listen (int $ports.otlpHttp.containerPort)) }}
{{- $otlp := dict "protocols" (dict "grpc" $grpc "http" $http) }}
{{- if .Values.auth.enabled }}
{{- $_ := include "genai-cost-agent.authSecretName" . }}
{{- $_ := set $otlp "auth" (dict "bearer_token_file" (printf "%s/%s" (include "genai-cost-agent.authDir" .) .Values.auth.secretKey)) }}
{{- end }}
{{- if .Values.tls.enabled }}
{{- $_ := include "genai-cost-agent.tlsSecretName" . }}
{{- $dir := include "genai-cost-agent.tlsDir" . }}
{{- $tls := dict "cert_file" (printf "%s/tls.crt" $dir) "key_file" (printf "%s/tls.key" $dir) "min_version" (toString .Values.tls.minVersion) "reload_interval" .Values.tls.reloadInterval }}
{{- if .Values.tls.clientAuth }}
{{- $_ := set $tls "client_ca_file" (printf "%s/ca.crt" $dir) }}
{{- end }}
{{- $_ := set $grpc "tls" $tls }}
{{- $_ := set $http "tls" (deepCopy $tls) }}
{{- end }}
{{- $managed := dict
  "receivers" (dict "otlp" $otlp)
  "service" (dict "telemetry" (dict "endpoint" (include "genai-cost-agent.telemetryEndpoint" .))) }}
{{- if include "genai-cost-agent.prometheusEnabled" . }}
{{- $_ := set $managed "metrics" (dict "prometheus" (dict "endpoint" (printf "%s:%d" $listen (int $ports.prometheus.containerPort)))) }}
{{- end }}
{{- with .Values.priceCatalog }}
{{- if .existingConfigMap }}
{{- $files := list }}
{{- range .keys }}
{{- $files = append $files (printf "%s/%s" (include "genai-cost-agent.priceCatalogDir" $) .) }}
{{- end }}
{{- $_ := set $managed "pricing" (dict "catalog_files" $files "reload_interval" .reloadInterval) }}
{{- end }}
{{- end }}
{{- if .Values.persistence.enabled }}
{{- /* Every OTLP exporter queues on the mounted volume (one subdirectory each). */}}
{{- $exporters := dict }}
{{- range $name, $exporter := (dig "exporters" dict $config) }}
{{- if or (eq $name "otlp") (hasPrefix "otlp/" $name) }}
{{- $_ := set $exporters $name (dict "sending_queue" (dict "storage" $.Values.persistence.mountPath)) }}
{{- end }}
{{- end }}
{{- $_ := set $managed "exporters" $exporters }}
{{- end }}
{{- with (dig "exporters" "ledger" nil $config) }}
{{- if not .directory }}
{{- if $.Values.persistence.enabled }}
{{- /* The ledger's files go on the mounted volume, beside the queues. */}}
{{- $exporters := (get $managed "exporters") | default dict }}
{{- $_ := set $exporters "ledger" (dict "directory" (printf "%s/ledger" $.Values.persistence.mountPath)) }}
{{- $_ := set $managed "exporters" $exporters }}
{{- else if not .otlp_logs }}
{{- fail "config.exporters.ledger needs persistence.enabled (its files go on that volume), a directory, or otlp_logs: true" }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml (mustMergeOverwrite $config $managed) }}
{{- end }}

{{/* Grace period, checked against the agent's drain deadline and any preStop sleep. */}}
{{- define "genai-cost-agent.terminationGracePeriodSeconds" -}}
{{- $shutdown := include "genai-cost-agent.durationSeconds" (dig "service" "shutdown_timeout" "10s" (.Values.config | default dict)) | atoi }}
{{- $sleep := dig "preStop" "sleep" "seconds" 0 (.Values.lifecycle | default dict) | int }}
{{- $grace := int .Values.terminationGracePeriodSeconds }}
{{- if le $grace (add $shutdown $sleep) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be longer than config.service.shutdown_timeout (%ds) plus the preStop sleep (%ds), or the kubelet kills the agent while it drains its queues" $grace $shutdown $sleep) }}
{{- end }}
{{- $grace }}
{{- end }}

{{/* The pod template shared by the DaemonSet and the Deployment. */}}
{{- define "genai-cost-agent.podTemplate" -}}
{{- $mode := include "genai-cost-agent.mode" . }}
{{- $prometheus := include "genai-cost-agent.prometheusEnabled" . -}}
metadata:
  labels:
    {{- include "genai-cost-agent.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "genai-cost-agent.serviceAccountName" . }}
  automountServiceAccountToken: {{ .Values.automountServiceAccountToken }}
  terminationGracePeriodSeconds: {{ include "genai-cost-agent.terminationGracePeriodSeconds" . }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if and .Values.persistence.enabled .Values.persistence.initChown.enabled }}
  initContainers:
    - name: queue-directory-owner
      image: "{{ .Values.persistence.initChown.image.repository }}:{{ .Values.persistence.initChown.image.tag }}"
      imagePullPolicy: {{ .Values.persistence.initChown.image.pullPolicy }}
      command: ["chown", "{{ .Values.securityContext.runAsUser }}:{{ .Values.securityContext.runAsGroup }}", {{ .Values.persistence.mountPath | quote }}]
      securityContext:
        runAsNonRoot: false
        runAsUser: 0
        readOnlyRootFilesystem: true
        allowPrivilegeEscalation: false
        capabilities:
          drop: ["ALL"]
          add: ["CHOWN"]
      volumeMounts:
        - name: queue
          mountPath: {{ .Values.persistence.mountPath }}
  {{- end }}
  containers:
    - name: agent
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - --config
        - /etc/genai-cost-agent/config.yaml
        {{- range .Values.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      ports:
        {{- with .Values.ports.otlpGrpc }}
        {{- if .enabled }}
        - name: otlp-grpc
          containerPort: {{ .containerPort }}
          {{- if and (eq $mode "daemonset") .hostPort }}
          hostPort: {{ .hostPort }}
          {{- end }}
          protocol: TCP
        {{- end }}
        {{- end }}
        {{- with .Values.ports.otlpHttp }}
        {{- if .enabled }}
        - name: otlp-http
          containerPort: {{ .containerPort }}
          {{- if and (eq $mode "daemonset") .hostPort }}
          hostPort: {{ .hostPort }}
          {{- end }}
          protocol: TCP
        {{- end }}
        {{- end }}
        - name: telemetry
          containerPort: {{ .Values.ports.telemetry.containerPort }}
          protocol: TCP
        {{- if $prometheus }}
        - name: prometheus
          containerPort: {{ .Values.ports.prometheus.containerPort }}
          protocol: TCP
        {{- end }}
      {{- if or .Values.downwardApiEnv .Values.extraEnv }}
      env:
        {{- if .Values.downwardApiEnv }}
        - name: K8S_NODE_NAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        - name: K8S_NODE_IP
          valueFrom:
            fieldRef:
              fieldPath: status.hostIP
        - name: K8S_POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: K8S_POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        - name: K8S_POD_IP
          valueFrom:
            fieldRef:
              fieldPath: status.podIP
        {{- end }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- end }}
      {{- with .Values.extraEnvFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: telemetry
        {{- toYaml .Values.livenessProbe | nindent 8 }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: telemetry
        {{- toYaml .Values.readinessProbe | nindent 8 }}
      {{- with .Values.lifecycle }}
      lifecycle:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: config
          mountPath: /etc/genai-cost-agent
          readOnly: true
        {{- if .Values.persistence.enabled }}
        - name: queue
          mountPath: {{ .Values.persistence.mountPath }}
        {{- end }}
        {{- if .Values.priceCatalog.existingConfigMap }}
        - name: price-catalog
          mountPath: {{ include "genai-cost-agent.priceCatalogDir" . }}
          readOnly: true
        {{- end }}
        {{- if .Values.auth.enabled }}
        - name: auth-tokens
          mountPath: {{ include "genai-cost-agent.authDir" . }}
          readOnly: true
        {{- end }}
        {{- if .Values.tls.enabled }}
        - name: tls
          mountPath: {{ include "genai-cost-agent.tlsDir" . }}
          readOnly: true
        {{- end }}
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "genai-cost-agent.fullname" . }}
        items:
          - key: config.yaml
            path: config.yaml
    {{- if .Values.persistence.enabled }}
    - name: queue
      {{- if .Values.persistence.volume }}
      {{- toYaml .Values.persistence.volume | nindent 6 }}
      {{- else if eq $mode "daemonset" }}
      hostPath:
        path: {{ .Values.persistence.hostPath.path }}
        type: {{ .Values.persistence.hostPath.type }}
      {{- else }}
      {{- fail "persistence in gateway mode needs persistence.volume (e.g. a persistentVolumeClaim); a hostPath would differ from node to node" }}
      {{- end }}
    {{- end }}
    {{- with .Values.priceCatalog }}
    {{- if .existingConfigMap }}
    {{- /* A whole-directory mount: the kubelet swaps in an updated ConfigMap, the agent reloads. */}}
    - name: price-catalog
      configMap:
        name: {{ .existingConfigMap }}
        items:
          {{- range .keys }}
          - key: {{ . }}
            path: {{ . }}
          {{- end }}
    {{- end }}
    {{- end }}
    {{- if .Values.auth.enabled }}
    {{- /* A whole-directory mount: the kubelet swaps in a rotated Secret, the agent re-reads the file. */}}
    - name: auth-tokens
      secret:
        secretName: {{ include "genai-cost-agent.authSecretName" . }}
        items:
          - key: {{ .Values.auth.secretKey }}
            path: {{ .Values.auth.secretKey }}
    {{- end }}
    {{- if .Values.tls.enabled }}
    - name: tls
      secret:
        secretName: {{ include "genai-cost-agent.tlsSecretName" . }}
        items:
          - key: tls.crt
            path: tls.crt
          - key: tls.key
            path: tls.key
          {{- if .Values.tls.clientAuth }}
          - key: ca.crt
            path: ca.crt
          {{- end }}
    {{- end }}
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if and (eq $mode "gateway") .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml .Values.topologySpreadConstraints | nindent 4 }}
  {{- end }}
{{- end }}
