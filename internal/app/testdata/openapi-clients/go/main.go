// Command heraldclient drives a live Herald through the client that
// oapi-codegen generates from Herald's OpenAPI document (client.gen.go, made
// by the test into this directory): it creates, reads, updates and tests a
// webhook, posts an event to it, waits for its delivery and deletes the
// webhook. It uses the generated types as they are: no casts, no raw JSON.
//
// Environment: HERALD_URL (the /api/v1 base), HERALD_TOKEN, RECEIVER_URL.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "heraldclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	token := os.Getenv("HERALD_TOKEN")
	c, err := NewClientWithResponses(os.Getenv("HERALD_URL"), WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}))
	if err != nil {
		return err
	}
	project := Project("prj")
	format := Format("standard")
	conds := []Condition{{Label: "env", Operator: In, Values: &[]string{"prod"}}}
	created, err := c.CreateWebhookWithResponse(ctx, CreateWebhookJSONRequestBody{
		Name: "go-client", Project: &project, Url: os.Getenv("RECEIVER_URL"),
		EventTypes: []string{"image.push"}, Format: &format, Conditions: &conds,
	})
	if err != nil {
		return err
	}
	if created.JSON201 == nil {
		return fmt.Errorf("create: %d %s", created.StatusCode(), created.Body)
	}
	id := created.JSON201.Id
	if created.JSON201.SigningSecret == "" || created.JSON201.Name != "go-client" {
		return fmt.Errorf("create answered %+v", created.JSON201)
	}

	got, err := c.GetWebhookWithResponse(ctx, id)
	if err != nil {
		return err
	}
	if got.JSON200 == nil || got.JSON200.Url != os.Getenv("RECEIVER_URL") || len(got.JSON200.EventTypes) != 1 {
		return fmt.Errorf("get: %d %s", got.StatusCode(), got.Body)
	}

	lang := Language("zh-CN")
	patched, err := c.UpdateWebhookWithResponse(ctx, id, UpdateWebhookJSONRequestBody{Language: &lang})
	if err != nil {
		return err
	}
	if patched.JSON200 == nil || patched.JSON200.Language != string(lang) {
		return fmt.Errorf("patch: %d %s", patched.StatusCode(), patched.Body)
	}

	sample := "image.push" // optional: the sample event of a type instead of herald.test
	tested, err := c.TestWebhookWithResponse(ctx, id, TestWebhookJSONRequestBody{EventType: &sample})
	if err != nil {
		return err
	}
	if tested.JSON200 == nil || !tested.JSON200.Ok || tested.JSON200.DeliveryId == "" {
		return fmt.Errorf("test: %d %s", tested.StatusCode(), tested.Body)
	}

	var body PostEventsJSONRequestBody
	labels := map[string]string{"env": "prod"}
	if err := body.FromEventInput(EventInput{Type: "image.push", Project: &project, Labels: &labels,
		Data: map[string]any{"repository": map[string]any{"name": "app"}}}); err != nil {
		return err
	}
	posted, err := c.PostEventsWithResponse(ctx, nil, body)
	if err != nil {
		return err
	}
	if posted.JSON202 == nil || len(posted.JSON202.Data) != 1 || posted.JSON202.Data[0].Deliveries != 1 {
		return fmt.Errorf("post event: %d %s", posted.StatusCode(), posted.Body)
	}
	eventID := posted.JSON202.Data[0].Id

	deadline := time.Now().Add(30 * time.Second)
	for {
		list, err := c.ListDeliveriesWithResponse(ctx, &ListDeliveriesParams{Webhook: &id, Event: &eventID})
		if err != nil {
			return err
		}
		if list.JSON200 == nil {
			return fmt.Errorf("deliveries: %d %s", list.StatusCode(), list.Body)
		}
		if len(list.JSON200.Data) == 1 && list.JSON200.Data[0].State == Succeeded {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("delivery not succeeded: %s", list.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	deleted, err := c.DeleteWebhookWithResponse(ctx, id)
	if err != nil {
		return err
	}
	if deleted.StatusCode() != http.StatusNoContent {
		return fmt.Errorf("delete: %d %s", deleted.StatusCode(), deleted.Body)
	}
	gone, err := c.GetWebhookWithResponse(ctx, id)
	if err != nil {
		return err
	}
	if gone.JSON404 == nil || gone.JSON404.Error.Code != ErrorNotFoundErrorCodeNotFound || gone.JSON404.Error.Message == "" {
		return fmt.Errorf("get after delete: %d %s", gone.StatusCode(), gone.Body)
	}
	fmt.Println("ok", id, eventID)
	return nil
}
