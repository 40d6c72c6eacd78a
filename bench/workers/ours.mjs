// Cold-start probe: the package's workerd entry, connect + one read.
import { ShotGrid } from "../../pkg/workerd.js";

export default {
  async fetch(_req, env) {
    const sg = await ShotGrid.connect({ site: env.SG_EMULATOR_URL, auth: { grant: "client_credentials", clientId: env.SG_TEST_CLIENT_ID, clientSecret: env.SG_TEST_CLIENT_SECRET } });
    return Response.json(await sg.read("Project", Number(env.PROJECT_ID), { fields: ["name"] }));
  },
};
