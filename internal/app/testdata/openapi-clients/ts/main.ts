// Drives a live Herald through a client generated from its OpenAPI document
// (schema.d.ts, made by the test with openapi-typescript) and openapi-fetch:
// create, read, update and test a webhook, post an event, wait for its
// delivery, delete the webhook. Written to the generated types: no casts, no
// `any`; `tsc` type-checks it before it runs.
//
// Environment: HERALD_URL (the /api/v1 base), HERALD_TOKEN, RECEIVER_URL.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Webhook = components["schemas"]["Webhook"];
type Failure = { error: { code: string; message: string } } | string | undefined;

function why(status: number, e: Failure): string {
  return `${status} ${typeof e === "string" ? e : (e?.error.code ?? "") + " " + (e?.error.message ?? "")}`;
}

async function main(): Promise<void> {
  const baseUrl = process.env["HERALD_URL"] ?? "";
  const receiver = process.env["RECEIVER_URL"] ?? "";
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${process.env["HERALD_TOKEN"] ?? ""}` } });

  const created = await client.POST("/webhooks", {
    body: {
      name: "ts-client", project: "prj", url: receiver, event_types: ["image.push"], format: "cloudevents",
      conditions: [{ label: "env", operator: "In", values: ["prod"] }], headers: { "X-Team": "ci" },
    },
  });
  if (!created.data) throw new Error("create: " + why(created.response.status, created.error));
  const id: string = created.data.id;
  const secret: string = created.data.signing_secret;
  if (!secret.startsWith("whsec_")) throw new Error("no signing secret");

  const got = await client.GET("/webhooks/{id}", { params: { path: { id } } });
  if (!got.data) throw new Error("get: " + why(got.response.status, got.error));
  const w: Webhook = got.data;
  if (w.url !== receiver || w.event_types.length !== 1 || w.format !== "cloudevents") throw new Error("get: " + JSON.stringify(w));

  const patched = await client.PATCH("/webhooks/{id}", { params: { path: { id } }, body: { language: "zh-CN" } });
  if (!patched.data) throw new Error("patch: " + why(patched.response.status, patched.error));

  const tested = await client.POST("/webhooks/{id}/test", { params: { path: { id } } });
  if (!tested.data?.ok) throw new Error("test: " + why(tested.response.status, tested.error));

  const posted = await client.POST("/events", {
    body: { type: "image.push", project: "prj", labels: { env: "prod" }, data: { repository: { name: "app" } } },
  });
  const accepted = posted.data?.data[0];
  if (!accepted || accepted.deliveries !== 1) throw new Error("post event: " + why(posted.response.status, posted.error));
  const batch = await client.POST("/events", { body: { events: [{ type: "build.finished", project: "prj" }] } });
  if (!batch.data) throw new Error("post batch: " + why(batch.response.status, batch.error));

  const deadline = Date.now() + 30_000;
  for (;;) {
    const list = await client.GET("/deliveries", { params: { query: { webhook: id, event: accepted.id } } });
    if (!list.data) throw new Error("deliveries: " + why(list.response.status, list.error));
    if (list.data.data[0]?.state === "succeeded") break;
    if (Date.now() > deadline) throw new Error("delivery not succeeded: " + JSON.stringify(list.data));
    await new Promise((r) => setTimeout(r, 50));
  }

  const deleted = await client.DELETE("/webhooks/{id}", { params: { path: { id } } });
  if (deleted.response.status !== 204) throw new Error("delete: " + deleted.response.status);
  const gone = await client.GET("/webhooks/{id}", { params: { path: { id } } });
  if (gone.response.status !== 404 || typeof gone.error !== "object" || gone.error.error.code !== "not_found") {
    throw new Error("get after delete: " + gone.response.status);
  }
  console.log("ok", id, accepted.id);
}

main().catch((e: unknown) => {
  console.error("herald ts client:", e);
  process.exit(1);
});
