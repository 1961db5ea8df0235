import { describe, expect, it } from "@jest/globals";
import { KubeConfig } from "@kubernetes/client-node";
import { SignJWT, jwtVerify } from "jose";

// The ESM-only dependencies load under jest as they are, untransformed.
describe("native ESM under jest", () => {
  it("loads @kubernetes/client-node and reads a kubeconfig", () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: "https://127.0.0.1:6443", skipTLSVerify: false }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    expect(kc.getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
  });

  it("signs and verifies a JWT with jose", async () => {
    const secret = new TextEncoder().encode("a-test-secret-of-32-bytes-length!");
    const token = await new SignJWT({ groups: ["ads-eng"] }).setProtectedHeader({ alg: "HS256" }).setSubject("ana").sign(secret);
    const { payload } = await jwtVerify(token, secret);
    expect(payload.sub).toBe("ana");
    expect(payload.groups).toEqual(["ads-eng"]);
  });
});
