// Package catalog is the built-in list of event types offered in the console
// and by GET /api/v1/event-types: Harbor's events (seed 004), the host and
// alarm events of the host console (seed 002), monitoring alerts (seed 003)
// and Herald's own. Custom types are accepted on ingest too; the catalog only
// helps people pick.
package catalog

import (
	"embed"
	"encoding/json"
	"sort"

	"github.com/herald-hq/herald"
)

//go:embed event_types.json
var files embed.FS

// EventTypes returns the catalog sorted by name.
func EventTypes() []herald.EventType {
	b, err := files.ReadFile("event_types.json")
	if err != nil {
		panic(err) // embedded at build time
	}
	var out []herald.EventType
	if err := json.Unmarshal(b, &out); err != nil {
		panic("catalog: event_types.json: " + err.Error())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
