// The event-daemon pattern on a Cron Trigger: each run reads the new EventLogEntry
// records since the stored position, handles them, and stores the new position in KV,
// so no event is missed or handled twice between runs.
import { ShotGrid } from "shotgrid-wasm";

const LOG_SIZE = 200;

async function run(env) {
  const sg = await ShotGrid.connect({
    site: env.SG_SITE,
    auth: { grant: "client_credentials", clientId: env.SG_SCRIPT_NAME, clientSecret: env.SG_SCRIPT_KEY },
  });
  const position = await env.STATE.get("position", "json");
  const follow = sg.events.follow({
    // The first run starts after the newest event; later runs resume where they stopped.
    position,
    entityTypes: env.SG_ENTITY_TYPES ? env.SG_ENTITY_TYPES.split(",") : undefined,
    untilCaughtUp: true,
    pageSize: 200,
  });
  const handled = [];
  try {
    for await (const event of follow) {
      // Your logic here. This example keeps a short log of what happened.
      handled.push({ id: event.id, event_type: event.event_type, entity: event.entity ?? null });
      if (handled.length >= 1000) break; // stay within one invocation's limits
    }
  } finally {
    // Store the position even when a handler failed: it covers exactly the events
    // handed out, so the failed one is not retried (rethrow first to retry it).
    if (follow.position) await env.STATE.put("position", JSON.stringify(follow.position));
    follow.close();
    sg.free();
  }
  if (handled.length > 0) {
    const log = (await env.STATE.get("log", "json")) ?? [];
    await env.STATE.put("log", JSON.stringify([...log, ...handled].slice(-LOG_SIZE)));
  }
  return handled;
}

export default {
  async scheduled(controller, env) {
    await run(env);
  },
  // GET /state shows the stored position and recent events.
  async fetch(request, env) {
    if (new URL(request.url).pathname !== "/state") return new Response("not found", { status: 404 });
    return Response.json({
      position: await env.STATE.get("position", "json"),
      log: (await env.STATE.get("log", "json")) ?? [],
    });
  },
};
