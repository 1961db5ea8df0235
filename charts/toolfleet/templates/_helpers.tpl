{{/* Names and labels every template shares. */}}
{{- define "toolfleet.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 40 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "toolfleet.labels" -}}
app.kubernetes.io/part-of: toolfleet
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "toolfleet.operator.name" -}}{{ include "toolfleet.fullname" . }}-operator{{- end -}}
{{- define "toolfleet.registry.name" -}}{{ include "toolfleet.fullname" . }}-registry{{- end -}}
{{- define "toolfleet.reviewers.name" -}}{{ include "toolfleet.fullname" . }}-reviewers{{- end -}}
{{- define "toolfleet.reviewGate.name" -}}{{ include "toolfleet.fullname" . }}-review-gate{{- end -}}
{{- define "toolfleet.serverPods.name" -}}{{ include "toolfleet.fullname" . }}-server-pods{{- end -}}

{{- define "toolfleet.operator.selector" -}}
app.kubernetes.io/name: toolfleet-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "toolfleet.registry.selector" -}}
app.kubernetes.io/name: toolfleet-registry
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* repository@digest, or repository:tag when only a tag is given; neither is an error. */}}
{{- define "toolfleet.image" -}}
{{- $img := index .root.Values.images .component -}}
{{- if $img.digest -}}{{ $img.repository }}@{{ $img.digest }}
{{- else if $img.tag -}}{{ $img.repository }}:{{ $img.tag }}
{{- else -}}{{ fail (printf "images.%s: set digest (make chart-values writes it from dist/images/images.json) or tag" .component) }}
{{- end -}}
{{- end -}}

{{/* The pod security context every workload of the chart runs with: the images' non-root user. */}}
{{- define "toolfleet.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}
{{- define "toolfleet.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{- define "toolfleet.registry.url" -}}
{{- if .Values.registry.publicUrl -}}{{ .Values.registry.publicUrl }}{{- else -}}http://{{ include "toolfleet.registry.name" . }}.{{ .Release.Namespace }}.svc.{{ .Values.operator.clusterDomain }}{{- if ne (int .Values.registry.service.port) 80 }}:{{ .Values.registry.service.port }}{{ end }}{{- end -}}
{{- end -}}
