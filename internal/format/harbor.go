package format

import (
	"encoding/json"
	"strings"
)

// HarborPayload is the webhook payload of Harbor 1.10, 2.x and main (format
// harbor), field for field as Harbor's notifier model writes it (matched
// against goharbor/harbor main, commit c50c7ddd, src/pkg/notifier/model):
//
//	{"type": "PUSH_ARTIFACT", "occur_at": 1680501893, "operator": "admin",
//	 "event_data": {"resources": [{"digest": "sha256:…", "tag": "latest",
//	   "resource_url": "harbor.example.com/library/nginx:latest"}],
//	  "repository": {"date_created": 1680501893, "name": "nginx",
//	   "namespace": "library", "repo_full_name": "library/nginx", "repo_type": "public"}}}
//
// type is Harbor's name for the Herald event type (see HarborEventType).
// occur_at is unix seconds: data.occur_at, else occurred_at. operator is
// data.operator, else the label operator, else "".
//
// event_data is the event's data.event_data when the data is a whole Harbor
// payload, else the event's data read as Harbor's event_data, with Herald's
// flat fields (seed 004) as fallbacks. Per type, as Harbor sends it:
//
//	artifact, chart, scan and quota events
//	              repository and resources
//	SCANNING_*    plus scan ({"scan_type": "vulnerability"} by default) and
//	              each resource's scan_overview / sbom_overview as given
//	QUOTA_*       plus custom_attributes ({"Details": data.details, else the
//	              event's message}) and the resource's tag and digest
//	REPLICATION   replication: data.replication, else the fields of Harbor's
//	              replication record found flat in data (job_status, …)
//	TAG_RETENTION retention: data.retention, else the fields of Harbor's
//	              retention record found flat in data (total, retained, …)
//
// repository:
//
//	namespace       repository.namespace, data.namespace, data.project, the
//	                first path element of repo_full_name, else the event's project
//	name            repository.name, data.repo_name (without "<namespace>/"),
//	                else repo_full_name after its first "/" (as Harbor derives it)
//	repo_full_name  repository.repo_full_name, data.full_name,
//	                "<namespace>/<name>", the repository of the event subject
//	repo_type       repository.repo_type, data.project_type (lowercased), else
//	                "private"
//	date_created    repository.date_created (unix seconds), left out without it
//
// resources: one per element of data.resources (digest, tag, resource_url,
// scan_overview, sbom_overview kept as given), else one from data.digest /
// data.image_id (written "sha256:<hex>" when given bare), data.tag /
// data.tags[0] and data.resource_url, the subject's tag and digest filling
// the gaps; resource_url is "<registry>/<repo_full_name>:<tag>" (or
// "@<digest>") when the registry is known: from the subject, data.registry,
// data.harbor_hostname or the label registry.
type HarborPayload struct {
	Type      string           `json:"type"`
	OccurAt   int64            `json:"occur_at"`
	Operator  string           `json:"operator"`
	EventData *HarborEventData `json:"event_data,omitempty"`
}

// HarborEventData is HarborPayload.EventData. Replication, retention and scan
// are Harbor's own records, passed through as the event carries them.
type HarborEventData struct {
	Resources   []HarborResource  `json:"resources,omitempty"`
	Repository  *HarborRepository `json:"repository,omitempty"`
	Replication json.RawMessage   `json:"replication,omitempty"`
	Retention   json.RawMessage   `json:"retention,omitempty"`
	Scan        json.RawMessage   `json:"scan,omitempty"`
	Custom      map[string]string `json:"custom_attributes,omitempty"`
}

// HarborResource is one artifact of HarborEventData.Resources.
type HarborResource struct {
	Digest       string          `json:"digest,omitempty"`
	Tag          string          `json:"tag,omitempty"`
	ResourceURL  string          `json:"resource_url,omitempty"`
	ScanOverview json.RawMessage `json:"scan_overview,omitempty"`
	SBOMOverview json.RawMessage `json:"sbom_overview,omitempty"`
}

// HarborRepository is HarborEventData.Repository.
type HarborRepository struct {
	DateCreated  int64  `json:"date_created,omitempty"`
	Name         string `json:"name"`
	Namespace    string `json:"namespace"`
	RepoFullName string `json:"repo_full_name"`
	RepoType     string `json:"repo_type"`
}

// Harbor 2.x event types (Harbor's src/controller/event/topic.go; the chart
// events are Harbor 2.0 to 2.7's, before ChartMuseum was removed).
const (
	HarborPushArtifact      = "PUSH_ARTIFACT"
	HarborPullArtifact      = "PULL_ARTIFACT"
	HarborDeleteArtifact    = "DELETE_ARTIFACT"
	HarborUploadChart       = "UPLOAD_CHART"
	HarborDownloadChart     = "DOWNLOAD_CHART"
	HarborDeleteChart       = "DELETE_CHART"
	HarborScanningCompleted = "SCANNING_COMPLETED"
	HarborScanningFailed    = "SCANNING_FAILED"
	HarborScanningStopped   = "SCANNING_STOPPED"
	HarborQuotaExceed       = "QUOTA_EXCEED"
	HarborQuotaWarning      = "QUOTA_WARNING"
	HarborReplication       = "REPLICATION"
	HarborTagRetention      = "TAG_RETENTION"
)

// harborEventTypes maps Herald's Harbor event types to Harbor 2.x's names;
// heraldFromHarbor is the other way.
var (
	harborEventTypes = map[string]string{
		"image.push":             HarborPushArtifact,
		"image.pull":             HarborPullArtifact,
		"image.delete":           HarborDeleteArtifact,
		"chart.push":             HarborUploadChart,
		"chart.pull":             HarborDownloadChart,
		"chart.delete":           HarborDeleteChart,
		"image.scan.completed":   HarborScanningCompleted,
		"image.scan.failed":      HarborScanningFailed,
		"image.scan.stopped":     HarborScanningStopped,
		"project.quota.exceeded": HarborQuotaExceed,
		"project.quota.warning":  HarborQuotaWarning,
		"image.replication":      HarborReplication,
		"image.retention":        HarborTagRetention,
	}
	heraldFromHarbor = func() map[string]string {
		m := make(map[string]string, 2*len(harborEventTypes))
		for h, t := range harborEventTypes {
			m[t] = h
		}
		for h, t := range harborLegacyEventTypes {
			m[t] = h
		}
		return m
	}()
)

// HarborEventType returns Harbor 2.x's type for a Herald event type:
//
//	image.push → PUSH_ARTIFACT                 chart.push → UPLOAD_CHART
//	image.pull → PULL_ARTIFACT                 chart.pull → DOWNLOAD_CHART
//	image.delete → DELETE_ARTIFACT             chart.delete → DELETE_CHART
//	image.scan.completed → SCANNING_COMPLETED  project.quota.exceeded → QUOTA_EXCEED
//	image.scan.failed → SCANNING_FAILED        project.quota.warning → QUOTA_WARNING
//	image.scan.stopped → SCANNING_STOPPED      image.replication → REPLICATION
//	image.retention → TAG_RETENTION
//
// Any other type (a Harbor name already, or not Harbor's) is returned
// unchanged.
func HarborEventType(heraldType string) string {
	if t, ok := harborEventTypes[heraldType]; ok {
		return t
	}
	return heraldType
}

// HeraldEventType returns the Herald event type of a Harbor event type, 2.x
// (PUSH_ARTIFACT) or 1.x (pushImage): the inverse of HarborEventType and
// HarborLegacyEventType. ok is false for a name Harbor does not send.
func HeraldEventType(harborType string) (string, bool) {
	t, ok := heraldFromHarbor[harborType]
	return t, ok
}

// Harbor's replication and retention record fields (Harbor's
// src/controller/event/model), looked for flat in the event data when the
// data carries no replication or retention object.
var (
	harborReplicationFields = []string{
		"harbor_hostname", "job_status", "description", "artifact_type", "authentication_type",
		"override_mode", "trigger_type", "policy_creator", "execution_timestamp", "src_resource",
		"dest_resource", "successful_artifact", "failed_artifact", "execution_id", "task_id",
	}
	harborRetentionFields = []string{
		"total", "retained", "harbor_hostname", "project_name", "retention_policy_id",
		"retention_rule", "result", "deleted_artifact",
	}
)

func harbor(v *view) HarborPayload {
	ev := v.ev
	typ := HarborEventType(ev.Type)
	p := HarborPayload{Type: typ, Operator: v.strOr(ev.Labels["operator"], "operator")}
	if n, ok := v.int("occur_at"); ok {
		p.OccurAt = n
	} else {
		p.OccurAt = v.time().Unix()
	}

	// The event_data: data.event_data of a whole Harbor payload, else data.
	var ed any = v.root()
	if x, ok := v.lookup("event_data"); ok {
		if _, isObj := x.(map[string]any); isObj {
			ed = x
		}
	}
	str := func(paths ...string) string {
		for _, path := range paths {
			if x, ok := lookupPath(ed, path); ok {
				if s, ok := scalarText(x); ok && s != "" {
					return s
				}
			}
		}
		return ""
	}
	raw := func(path string) json.RawMessage {
		x, ok := lookupPath(ed, path)
		if !ok || x == nil {
			return nil
		}
		b, err := json.Marshal(x)
		if err != nil {
			return nil
		}
		return b
	}

	data := &HarborEventData{}
	switch typ {
	case HarborReplication:
		data.Replication = harborRecord(ed, "replication", harborReplicationFields, nil)
	case HarborTagRetention:
		data.Retention = harborRecord(ed, "retention", harborRetentionFields, []string{"total", "retained"})
	default:
		data.Repository = harborRepository(v, str)
		data.Resources = harborResources(v, ed, str, data.Repository.RepoFullName)
	}
	switch typ {
	case HarborScanningCompleted, HarborScanningFailed, HarborScanningStopped:
		if data.Scan = raw("scan"); data.Scan == nil {
			st := str("scan_type")
			if st == "" {
				st = "vulnerability"
			}
			data.Scan, _ = json.Marshal(map[string]string{"scan_type": st})
		}
	case HarborQuotaExceed, HarborQuotaWarning:
		data.Custom = map[string]string{}
		if x, ok := lookupPath(ed, "custom_attributes"); ok {
			if m, ok := x.(map[string]any); ok {
				for k, val := range m {
					data.Custom[k] = text(val)
				}
			}
		}
		if data.Custom["Details"] == "" {
			d := str("details", "Details", "message")
			if d == "" {
				d = ev.Message
			}
			if d != "" {
				data.Custom["Details"] = d
			}
		}
		if len(data.Custom) == 0 {
			data.Custom = nil
		}
		// Harbor's quota resource is the artifact's tag and digest only.
		for i := range data.Resources {
			data.Resources[i].ResourceURL = ""
		}
	}
	p.EventData = data
	return p
}

func harborRepository(v *view, str func(...string) string) *HarborRepository {
	ev := v.ev
	ref := parseImageRef(ev.Subject)
	r := &HarborRepository{
		Namespace:    str("repository.namespace", "namespace", "project"),
		Name:         str("repository.name"),
		RepoFullName: str("repository.repo_full_name", "full_name", "repo_full_name"),
		RepoType:     strings.ToLower(str("repository.repo_type", "project_type", "repo_type")),
	}
	if r.Name == "" {
		switch n := str("repo_name"); {
		case n == "":
		case r.Namespace != "":
			r.Name = strings.TrimPrefix(n, r.Namespace+"/")
		case strings.Contains(n, "/") && r.RepoFullName == "":
			r.RepoFullName = n
		default:
			r.Name = n
		}
	}
	if r.RepoFullName == "" && r.Name == "" {
		r.RepoFullName = ref.repository
	}
	if r.Namespace == "" {
		if ns, _, ok := strings.Cut(r.RepoFullName, "/"); ok {
			r.Namespace = ns
		} else {
			r.Namespace = ev.Project
		}
	}
	if r.RepoFullName == "" && r.Name != "" {
		r.RepoFullName = r.Name
		if r.Namespace != "" {
			r.RepoFullName = r.Namespace + "/" + r.Name
		}
	}
	if r.Name == "" {
		if _, rest, ok := strings.Cut(r.RepoFullName, "/"); ok {
			r.Name = rest
		} else {
			r.Name = r.RepoFullName
		}
	}
	if r.RepoType == "" {
		r.RepoType = "private"
	}
	if x, ok := v.lookup("repository.date_created"); ok {
		r.DateCreated, _ = intOf(x)
	} else if x, ok := v.lookup("event_data.repository.date_created"); ok {
		r.DateCreated, _ = intOf(x)
	}
	return r
}

func harborResources(v *view, ed any, str func(...string) string, fullName string) []HarborResource {
	ref := parseImageRef(v.ev.Subject)
	var out []HarborResource
	if x, ok := lookupPath(ed, "resources"); ok {
		if list, ok := x.([]any); ok {
			for _, item := range list {
				r := HarborResource{}
				r.Digest, _ = scalarText(valueAt(item, "digest"))
				r.Tag, _ = scalarText(valueAt(item, "tag"))
				r.ResourceURL, _ = scalarText(valueAt(item, "resource_url"))
				r.ScanOverview = rawAt(item, "scan_overview")
				r.SBOMOverview = rawAt(item, "sbom_overview")
				out = append(out, r)
			}
			return out
		}
	}
	r := HarborResource{
		Digest:      harborDigest(str("digest", "image_id")),
		Tag:         str("tag", "tags.0"),
		ResourceURL: str("resource_url"),
	}
	if r.Digest == "" {
		r.Digest = ref.digest
	}
	if r.Tag == "" {
		r.Tag = ref.tag
	}
	if r.ResourceURL == "" && fullName != "" {
		host := imageRegistry(v.ev.Subject)
		if host == "" {
			host = str("registry", "harbor_hostname")
		}
		if host == "" {
			host = v.ev.Labels["registry"]
		}
		if host != "" {
			switch {
			case r.Tag != "":
				r.ResourceURL = host + "/" + fullName + ":" + r.Tag
			case r.Digest != "":
				r.ResourceURL = host + "/" + fullName + "@" + r.Digest
			}
		}
	}
	if r.Digest == "" && r.Tag == "" && r.ResourceURL == "" {
		return nil
	}
	return []HarborResource{r}
}

// harborRecord returns the object at data.<name>, else an object of the
// record's fields found flat in data (required ones 0 when absent), else nil.
func harborRecord(ed any, name string, fields, required []string) json.RawMessage {
	if x, ok := lookupPath(ed, name); ok {
		if _, isObj := x.(map[string]any); isObj {
			b, _ := json.Marshal(x)
			return b
		}
	}
	rec := map[string]any{}
	for _, f := range fields {
		if x, ok := lookupPath(ed, f); ok && x != nil {
			rec[f] = x
		}
	}
	if len(rec) == 0 {
		return nil
	}
	for _, f := range required {
		if _, ok := rec[f]; !ok {
			rec[f] = 0
		}
	}
	b, _ := json.Marshal(rec)
	return b
}

func rawAt(x any, path string) json.RawMessage {
	v, ok := lookupPath(x, path)
	if !ok || v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// harborDigest writes a bare 64-hex-digit image id as Harbor's digest,
// "sha256:<hex>"; anything else is kept.
func harborDigest(s string) string {
	if len(s) == 64 && strings.Trim(s, "0123456789abcdef") == "" {
		return "sha256:" + s
	}
	return s
}

// imageRegistry is the registry host of an image reference
// ("harbor.example.com/prj/repo:1" → "harbor.example.com"), "" when it names
// none.
func imageRegistry(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n") {
		return ""
	}
	host, rest, ok := strings.Cut(s, "/")
	if ok && strings.Contains(rest, "/") && (strings.ContainsAny(host, ".:") || host == "localhost") {
		return host
	}
	return ""
}
