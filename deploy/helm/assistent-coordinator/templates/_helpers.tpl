{{- define "assistent-coordinator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "assistent-coordinator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "assistent-coordinator.labels" -}}
{{ include "assistent-coordinator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: coordinator
app.kubernetes.io/part-of: assistent
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The stable name of one server: its Service, and the host its certificate names. */}}
{{- define "assistent-coordinator.server" -}}
{{- printf "%s-%s" (include "assistent-coordinator.fullname" .root) .id | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "assistent-coordinator.serverHost" -}}
{{- printf "%s.%s.svc" (include "assistent-coordinator.server" .) .root.Release.Namespace -}}
{{- end -}}
