{{/* The release's name for every object; at most 63 characters. */}}
{{- define "assistent-node.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "assistent-node.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "assistent-node.labels" -}}
{{ include "assistent-node.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: node
app.kubernetes.io/part-of: assistent
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "assistent-node.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "assistent-node.secretName" -}}
{{- .Values.existingSecret | default (printf "%s-env" (include "assistent-node.fullname" .)) -}}
{{- end -}}

{{/* The config file: values.config with the chart's own keys. */}}
{{- define "assistent-node.config" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- $_ := set $cfg "data" "/var/lib/assistent" -}}
{{- $_ := set $cfg "addr" "0.0.0.0:8080" -}}
{{- $_ := set $cfg "demo" .Values.demo -}}
{{- if .Values.federation.enabled -}}
{{- $fed := get $cfg "federation" | default dict -}}
{{- $_ := set $fed "cert" "/var/lib/assistent/cert" -}}
{{- $_ := set $cfg "federation" $fed -}}
{{- end -}}
{{- toPrettyJson $cfg -}}
{{- end -}}
