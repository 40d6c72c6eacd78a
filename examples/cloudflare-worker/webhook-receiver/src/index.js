// A ShotGrid webhook receiver: verifies each request's x-sg-signature against the
// hook's secret token, rejects forgeries with 401, and acknowledges every delivery
// through the API (the acknowledgement shows in ShotGrid's webhook log).
import { ShotGrid, verifyWebhook } from "shotgrid-wasm";

let client; // one connection per isolate, reused across requests
function connect(env) {
  client ??= ShotGrid.connect({
    site: env.SG_SITE,
    auth: { grant: "client_credentials", clientId: env.SG_SCRIPT_NAME, clientSecret: env.SG_SCRIPT_KEY },
  }).catch((e) => {
    client = undefined;
    throw e;
  });
  return client;
}

/** What this receiver does with one delivery; replace with your own logic. */
function describe(d) {
  const what = d.entity ? `${d.entity.type} ${d.entity.id}` : "record";
  const field = d.meta?.attribute_name ? ` (${d.meta.attribute_name})` : "";
  return `${d.operation ?? "event"} ${what}${field}`;
}

export default {
  async fetch(request, env) {
    if (request.method !== "POST") return new Response("POST webhook deliveries here\n", { status: 405 });
    // The raw body, exactly as sent: the signature covers these bytes.
    const body = await request.text();
    let payload;
    try {
      payload = await verifyWebhook(body, request.headers.get("x-sg-signature"), env.SG_WEBHOOK_TOKEN);
    } catch (e) {
      // Missing, malformed or wrong signature: not from ShotGrid (or a wrong token).
      const status = e.kind === "decode" ? 400 : 401;
      return new Response(`rejected: ${e.title}\n`, { status });
    }
    const sg = await connect(env);
    const handled = [];
    for (const delivery of payload.deliveries) {
      const summary = describe(delivery);
      await sg.acknowledgeDelivery(delivery.delivery_id, `handled by webhook-receiver: ${summary}`);
      handled.push(summary);
    }
    // Answer within 6 s; any status below 400 counts as delivered.
    return Response.json({ handled });
  },
};
