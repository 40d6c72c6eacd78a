// Cold-start probe: plain fetch, token + one read, flattened like a thin JS client.
export default {
  async fetch(_req, env) {
    const body = new URLSearchParams({ grant_type: "client_credentials", client_id: env.SG_TEST_CLIENT_ID, client_secret: env.SG_TEST_CLIENT_SECRET });
    const t = await (await fetch(`${env.SG_EMULATOR_URL}/api/v1/auth/access_token`, { method: "POST", body })).json();
    const res = await fetch(`${env.SG_EMULATOR_URL}/api/v1/entity/projects/${env.PROJECT_ID}?fields=name`, { headers: { authorization: `Bearer ${t.access_token}` } });
    const { data } = await res.json();
    return Response.json({ type: data.type, id: data.id, ...data.attributes });
  },
};
