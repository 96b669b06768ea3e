{{- define "herald.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "herald.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "herald.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "herald.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "herald.selectorLabels" -}}
app.kubernetes.io/name: {{ include "herald.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The Secret holding what the chart generates or is given inline. */}}
{{- define "herald.secretName" -}}
{{- include "herald.fullname" . -}}
{{- end -}}

{{- define "herald.secretKeySecret" -}}
{{- default (include "herald.secretName" .) .Values.secretKey.existingSecret -}}
{{- end -}}

{{- define "herald.databaseSecret" -}}
{{- default (include "herald.secretName" .) .Values.database.existingSecret -}}
{{- end -}}

{{- define "herald.validate" -}}
{{- if not (has .Values.database.driver (list "sqlite" "postgres")) -}}
{{- fail (printf "database.driver %q: use sqlite or postgres" .Values.database.driver) -}}
{{- end -}}
{{- if and (eq .Values.database.driver "sqlite") (gt (int .Values.replicaCount) 1) -}}
{{- fail "replicaCount > 1 needs database.driver postgres: SQLite's data directory is used by one process" -}}
{{- end -}}
{{- if and (eq .Values.database.driver "postgres") (not .Values.database.existingSecret) (not .Values.database.url) -}}
{{- fail "database.driver postgres needs database.existingSecret (key database.existingSecretKey) or database.url" -}}
{{- end -}}
{{- end -}}
