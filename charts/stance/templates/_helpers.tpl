{{/*
Shared names, labels and derived settings of the Stance chart.
*/}}

{{/* The chart name. */}}
{{- define "stance.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: the release name when it already contains the chart name
(`helm install stance ...` gives "stance"), else "<release>-stance". At most 52 characters, so
suffixed names ("-report-uploader") stay within 63.
*/}}
{{- define "stance.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "stance.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the pods (never change them: Deployment selectors are immutable). */}}
{{- define "stance.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stance.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "stance.labels" -}}
helm.sh/chart: {{ include "stance.chart" . }}
{{ include "stance.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: stance
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The ServiceAccount the pods run as. */}}
{{- define "stance.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "stance.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The container image: repository@digest, else repository:tag (tag defaults to appVersion). */}}
{{- define "stance.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The Service the API server and CI runners call, and the Secret with its certificate. */}}
{{- define "stance.serviceName" -}}
{{- include "stance.fullname" . }}
{{- end }}

{{- define "stance.tlsSecretName" -}}
{{- printf "%s-tls" (include "stance.fullname" .) }}
{{- end }}

{{/* DNS names of the serving certificate. */}}
{{- define "stance.dnsNames" -}}
{{- $svc := include "stance.serviceName" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson }}
{{- end }}

{{/*
Namespaces guardrails never apply to: policy.exemptNamespaces, kube-system and the release
namespace, without duplicates, as a JSON list. kube-system and Stance's own namespace are always
in it: with failurePolicy Fail, the control plane and Stance itself must be able to start while
Stance is down. The same list is passed to `--exempt-namespace` and excluded by the webhook's
namespaceSelector.
*/}}
{{- define "stance.exemptNamespaces" -}}
{{- concat .Values.policy.exemptNamespaces (list "kube-system" .Release.Namespace) | uniq | toJson }}
{{- end }}

{{/* Namespaces whose RiskExceptions policies honour by default (default: the release namespace). */}}
{{- define "stance.exceptionNamespaces" -}}
{{- if .Values.policy.exceptionNamespaces }}
{{- .Values.policy.exceptionNamespaces | uniq | toJson }}
{{- else }}
{{- list .Release.Namespace | toJson }}
{{- end }}
{{- end }}

{{/*
Stance's own evaluation deadline in milliseconds: inside the API server's timeoutSeconds, so Stance
answers (allow with a warning, or deny, as it decides) before the API server applies failurePolicy.
Derived: timeoutSeconds*1000 - 1000 (500 for a 1-second timeout).
*/}}
{{- define "stance.serverTimeoutMs" -}}
{{- $budget := mul (int .Values.webhook.timeoutSeconds) 1000 }}
{{- if not (kindIs "invalid" .Values.webhook.serverTimeoutMs) }}
{{- if ge (int .Values.webhook.serverTimeoutMs) $budget }}
{{- fail (printf "webhook.serverTimeoutMs (%v) must be below webhook.timeoutSeconds*1000 (%d): Stance must answer before the API server gives up" .Values.webhook.serverTimeoutMs $budget) }}
{{- end }}
{{- int .Values.webhook.serverTimeoutMs }}
{{- else if gt $budget 1000 }}
{{- sub $budget 1000 }}
{{- else }}
{{- div $budget 2 }}
{{- end }}
{{- end }}

{{/* Whether Stance fails open on its own evaluation errors ("true"/"false"). */}}
{{- define "stance.failOpen" -}}
{{- if kindIs "invalid" .Values.webhook.failOpen }}
{{- eq .Values.webhook.failurePolicy "Ignore" }}
{{- else }}
{{- .Values.webhook.failOpen }}
{{- end }}
{{- end }}

{{/* Checks across values that the schema cannot express. */}}
{{- define "stance.validate" -}}
{{- if and (not .Values.leaderElection.enabled) (gt (int .Values.replicaCount) 1) }}
{{- fail "leaderElection.enabled=false needs replicaCount=1: without a leader every replica would write status" }}
{{- end }}
{{- if eq (int .Values.ports.https) (int .Values.ports.metrics) }}
{{- fail "ports.https and ports.metrics must differ" }}
{{- end }}
{{- if and .Values.feeds.files (not .Values.feeds.volume) }}
{{- fail "feeds.files needs feeds.volume: the volume that holds the files" }}
{{- end }}
{{- if and .Values.history.enabled (not .Values.history.url) (gt (int .Values.replicaCount) 1) }}
{{- fail "history on SQLite (history.url empty) needs replicaCount=1: one pod owns the volume; set history.url to a postgres:// store for several replicas" }}
{{- end }}
{{- end }}

{{/* The SQLite history's PersistentVolumeClaim (history.enabled without history.url). */}}
{{- define "stance.historyClaim" -}}
{{ include "stance.fullname" . }}-history
{{- end }}
