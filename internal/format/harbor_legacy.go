package format

import (
	"math"
	"strings"
)

// HarborLegacyPayload is Harbor 1.x's webhook payload (format harbor-legacy;
// seed 004, as in the Harbor 1.9 user guide). Harbor 1.10 and later send
// HarborPayload instead (format harbor).
//
//	{"event_type": "pushImage", "events": [{"project": "prj", "repo_name": "repo1",
//	  "tag": "latest", "full_name": "prj/repo1", "trigger_time": 1583222332130,
//	  "image_id": "9e2c…", "project_type": "Private"}]}
//
// event_type is Harbor 1.x's name for the Herald type (see
// HarborLegacyEventType); types Harbor does not know are passed through
// unchanged. events holds one item
// per resource: one per element of data.resources when the event carries
// Harbor's resources list, otherwise one. Each field comes from the first of
// these that is present:
//
//	project       data.project, data.repository.namespace, the first path
//	              element of full_name, else the event's project
//	repo_name     data.repo_name, data.repository.name, full_name without "<project>/"
//	full_name     data.full_name, data.repository.repo_full_name,
//	              "<project>/<repo_name>", the repository of the event subject
//	tag           data.resources[i].tag, data.tag, data.tags[0], the subject's tag
//	image_id      data.resources[i].digest, data.image_id, data.digest, the
//	              subject's digest; without its "sha256:" prefix, as Harbor writes it
//	trigger_time  data.trigger_time, else data.occur_at (seconds), else
//	              occurred_at; unix milliseconds
//
// When the data is a whole Harbor 2.x payload, the fields are read from its
// event_data.
//
//	project_type  data.project_type, data.repository.repo_type (capitalised),
//	              else "Private", Harbor's default access level
//
// The subject is read as an image reference: "[registry/]prj/repo1[:tag][@digest]".
type HarborLegacyPayload struct {
	EventType string              `json:"event_type"`
	Events    []HarborLegacyEvent `json:"events"`
}

// HarborLegacyEvent is one item of HarborLegacyPayload.Events.
type HarborLegacyEvent struct {
	Project     string `json:"project"`
	RepoName    string `json:"repo_name"`
	Tag         string `json:"tag"`
	FullName    string `json:"full_name"`
	TriggerTime int64  `json:"trigger_time"`
	ImageID     string `json:"image_id"`
	ProjectType string `json:"project_type"`
}

// harborLegacyEventTypes maps Herald's Harbor event types to Harbor's names.
var harborLegacyEventTypes = map[string]string{
	"image.push":             "pushImage",
	"image.pull":             "pullImage",
	"image.delete":           "deleteImage",
	"chart.push":             "uploadChart",
	"chart.pull":             "downloadChart",
	"chart.delete":           "deleteChart",
	"image.scan.completed":   "scanningCompleted",
	"image.scan.failed":      "scanningFailed",
	"project.quota.exceeded": "quotaExceed",
}

// HarborLegacyEventType returns Harbor's event_type for a Herald event type:
//
//	image.push → pushImage              chart.push → uploadChart
//	image.pull → pullImage              chart.pull → downloadChart
//	image.delete → deleteImage          chart.delete → deleteChart
//	image.scan.completed → scanningCompleted
//	image.scan.failed → scanningFailed
//	project.quota.exceeded → quotaExceed
//
// Harbor 2.x names (PUSH_ARTIFACT) are read as their Herald type first. Any
// other type is returned unchanged.
func HarborLegacyEventType(heraldType string) string {
	if t, ok := heraldFromHarbor[heraldType]; ok {
		heraldType = t // a Harbor 2.x name
	}
	if t, ok := harborLegacyEventTypes[heraldType]; ok {
		return t
	}
	return heraldType
}

func harborLegacy(v *view) HarborLegacyPayload {
	ev := v.ev
	occurAt, hasOccurAt := v.int("occur_at")
	if x, ok := v.lookup("event_data"); ok {
		if _, isObj := x.(map[string]any); isObj {
			v = &view{ev: ev, decoded: true, data: x} // a whole Harbor 2.x payload
		}
	}
	base := HarborLegacyEvent{
		Project:     v.strOr("", "project", "repository.namespace"),
		RepoName:    v.strOr("", "repo_name", "repository.name"),
		FullName:    v.strOr("", "full_name", "repository.repo_full_name"),
		Tag:         v.strOr("", "tag", "tags.0"),
		ImageID:     v.strOr("", "image_id", "digest"),
		ProjectType: v.strOr("", "project_type", "repository.repo_type"),
	}
	ref := parseImageRef(ev.Subject)
	if base.RepoName == "" && base.FullName == "" {
		base.FullName = ref.repository
	}
	if base.Project == "" {
		if ns, _, ok := strings.Cut(base.FullName, "/"); ok {
			base.Project = ns
		} else {
			base.Project = ev.Project
		}
	}
	switch {
	case base.RepoName == "" && base.FullName != "":
		base.RepoName = repoName(base.Project, base.FullName)
	case base.FullName == "" && base.RepoName != "":
		base.FullName = base.RepoName
		if base.Project != "" && !strings.HasPrefix(base.RepoName, base.Project+"/") {
			base.FullName = base.Project + "/" + base.RepoName
		}
	}
	if base.Tag == "" {
		base.Tag = ref.tag
	}
	if base.ImageID == "" {
		base.ImageID = ref.digest
	}
	if n, ok := v.int("trigger_time"); ok {
		base.TriggerTime = n
	} else if hasOccurAt && occurAt >= 0 && occurAt < math.MaxInt64/1000 {
		base.TriggerTime = occurAt * 1000
	} else {
		base.TriggerTime = v.time().UnixMilli()
	}
	switch base.ProjectType {
	case "":
		base.ProjectType = "Private"
	default:
		base.ProjectType = strings.ToUpper(base.ProjectType[:1]) + base.ProjectType[1:]
	}

	var events []HarborLegacyEvent
	if x, ok := v.lookup("resources"); ok {
		if list, ok := x.([]any); ok {
			for _, r := range list {
				e := base
				if s, ok := scalarText(valueAt(r, "tag")); ok && s != "" {
					e.Tag = s
				}
				if s, ok := scalarText(valueAt(r, "digest")); ok && s != "" {
					e.ImageID = s
				}
				events = append(events, e)
			}
		}
	}
	if len(events) == 0 {
		events = []HarborLegacyEvent{base}
	}
	for i := range events {
		events[i].ImageID = strings.TrimPrefix(events[i].ImageID, "sha256:")
	}
	return HarborLegacyPayload{EventType: HarborLegacyEventType(ev.Type), Events: events}
}

func valueAt(x any, path string) any {
	v, _ := lookupPath(x, path)
	return v
}

// repoName is a full repository name without its project: "prj/team/app" in
// project prj is "team/app".
func repoName(project, full string) string {
	if project != "" {
		if rest, ok := strings.CutPrefix(full, project+"/"); ok {
			return rest
		}
	}
	if _, rest, ok := strings.Cut(full, "/"); ok {
		return rest
	}
	return full
}

type imageRef struct {
	repository, tag, digest string
}

// parseImageRef reads "[registry/]repository[:tag][@digest]". A first path
// element with a dot or a colon, or "localhost", is a registry host and left
// out of repository.
func parseImageRef(s string) imageRef {
	var r imageRef
	if s == "" || strings.ContainsAny(s, " \t\n") {
		return r
	}
	s, r.digest, _ = strings.Cut(s, "@")
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, '/') {
		s, r.tag = s[:i], s[i+1:]
	}
	if host, rest, ok := strings.Cut(s, "/"); ok && strings.Contains(rest, "/") &&
		(strings.ContainsAny(host, ".:") || host == "localhost") {
		s = rest
	}
	r.repository = s
	return r
}
