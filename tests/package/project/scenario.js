// The scenario every runtime runs against the emulator, through the installed package
// exactly as a user imports it. Returns [{ name, ok, error? }].
import { ShotGrid, ShotGridError, verifyWebhook, parseActionMenuItem } from "shotgrid-wasm";

export async function scenario(env, hmacSha1Hex) {
  const results = [];
  const check = async (name, fn) => {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (e) {
      results.push({ name, ok: false, error: String(e?.stack ?? e) });
    }
  };
  const assert = (cond, msg) => {
    if (!cond) throw new Error(msg);
  };
  let sg;
  await check("connect", async () => {
    sg = await ShotGrid.connect({ site: env.url, auth: { grant: "client_credentials", clientId: env.clientId, clientSecret: env.clientSecret } });
  });
  await check("read projects", async () => {
    const projects = await sg.find("Project", null, { fields: ["name"], sort: ["id"] });
    assert(projects.length > 0 && typeof projects[0].name === "string", `projects: ${JSON.stringify(projects)}`);
    const one = await sg.read("Project", projects[0].id, { fields: ["name"] });
    assert(one.id === projects[0].id, "read by id");
  });
  await check("bad credentials reject with ShotGridError", async () => {
    try {
      await ShotGrid.connect({ site: env.url, auth: { grant: "client_credentials", clientId: env.clientId, clientSecret: "wrong" } });
      throw new Error("connected with a wrong secret");
    } catch (e) {
      assert(e instanceof ShotGridError && e.kind === "auth", `got ${e}`);
    }
  });
  await check("verifyWebhook", async () => {
    const body = JSON.stringify({ data: { event_type: "Shotgun_Shot_Change", delivery_id: "d" }, timestamp: "t" });
    const sig = "sha1=" + (await hmacSha1Hex("tok", body));
    const pending = verifyWebhook(body, sig, "tok");
    assert(pending instanceof Promise, "verifyWebhook returns a Promise");
    assert((await pending).deliveries[0].delivery_id === "d", "verified");
    try {
      await verifyWebhook(body, sig, "other");
      throw new Error("accepted a wrong token");
    } catch (e) {
      assert(e instanceof ShotGridError && e.kind === "auth", `got ${e}`);
    }
  });
  await check("parseActionMenuItem", async () => {
    const ami = await parseActionMenuItem(new URLSearchParams("user_id=1&user_login=a&entity_type=Shot&selected_ids=1,2"));
    assert(ami.selectedIds.join() === "1,2", JSON.stringify(ami));
  });
  await check("events.follow", async () => {
    const follow = sg.events.follow({ afterId: 0, untilCaughtUp: true, pageSize: 100 });
    let last = 0;
    for await (const e of follow) {
      assert(e.id > last, "id order");
      last = e.id;
    }
    assert(follow.position.lastId === last, JSON.stringify(follow.position));
  });
  return results;
}

/** HMAC-SHA1 with WebCrypto (every target runtime has it). */
export async function webCryptoHmac(key, text) {
  const enc = new TextEncoder();
  const k = await crypto.subtle.importKey("raw", enc.encode(key), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(text)));
  return [...sig].map((b) => b.toString(16).padStart(2, "0")).join("");
}
