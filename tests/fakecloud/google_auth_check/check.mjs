// Cross-check of fakecloud's Google token endpoint and skyd's JWTs against Google's own
// google-auth-library for Node.js, both ways: the library's real RS256 assertions must pass
// fakecloud's verification and its tokens must be accepted as bearers, and a JWT made by skyd's
// code must verify under Node's crypto with the key's public half.
// Usage (run_google_auth_check.sh sets these): FAKECLOUD_URL, GCE_METADATA_HOST, KEY_FILE,
// IMPOSTOR_FILE, USER_FILE, SKYD_JWT node check.mjs
import { GoogleAuth, Compute, gaxios } from "google-auth-library";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";

const endpoint = process.env.FAKECLOUD_URL;
for (const name of ["FAKECLOUD_URL", "KEY_FILE", "IMPOSTOR_FILE", "USER_FILE", "SKYD_JWT"])
  assert.ok(process.env[name], `${name} is required`);
const key = JSON.parse(fs.readFileSync(process.env.KEY_FILE, "utf8"));
const user = JSON.parse(fs.readFileSync(process.env.USER_FILE, "utf8"));
const scopes = ["https://www.googleapis.com/auth/cloud-platform"];

// The library always talks to https://oauth2.googleapis.com (it ignores a key's token_uri); its
// transporter sends those requests to fakecloud instead, unchanged otherwise.
const transporter = new gaxios.Gaxios();
transporter.interceptors.request.add({
  resolved: async (options) => {
    const url = new URL(options.url.toString());
    if (url.origin === "https://oauth2.googleapis.com") {
      options.url = new URL(url.pathname + url.search, endpoint);
      options.agent = undefined;
    }
    return options;
  },
});

function check(name, fn) {
  return fn().then(
    () => console.log(`ok   ${name}`),
    (error) => {
      console.error(`FAIL ${name}: ${error.stack || error}`);
      process.exitCode = 1;
    },
  );
}

// Whom fakecloud says a token belongs to, asked with the library's own authorized request
// (Authorization: Bearer <its token>).
async function bearerEmail(client) {
  const response = await client.request({ url: `${endpoint}/_admin/gcp/token-info` });
  return response.data.email;
}

await check("a service account's JWT from the library is accepted by fakecloud's /token", async () => {
  const auth = new GoogleAuth({ keyFile: process.env.KEY_FILE, scopes, clientOptions: { transporter } });
  const client = await auth.getClient();
  const { token } = await client.getAccessToken();
  assert.match(token, /^ya29\.fake-/);
  assert.equal(await bearerEmail(client), key.client_email);
  assert.equal(await auth.getProjectId(), key.project_id);
});

await check("an authorized user's refresh token is traded at fakecloud's /token", async () => {
  const auth = new GoogleAuth({ keyFile: process.env.USER_FILE, scopes, clientOptions: { transporter } });
  const client = await auth.getClient();
  const { token } = await client.getAccessToken();
  assert.match(token, /^ya29\.fake-/);
  assert.equal(await bearerEmail(client), `user:${user.client_id}`);
});

await check("the metadata server's token (GCE_METADATA_HOST) is accepted as a bearer", async () => {
  assert.ok(process.env.GCE_METADATA_HOST, "GCE_METADATA_HOST is required");
  const client = new Compute();
  const { token } = await client.getAccessToken();
  assert.match(token, /^ya29\.fake-/);
  assert.equal(await bearerEmail(client), key.client_email);
});

await check("another key for the same account is refused with Google's error", async () => {
  const auth = new GoogleAuth({
    keyFile: process.env.IMPOSTOR_FILE,
    scopes,
    clientOptions: { transporter },
  });
  const client = await auth.getClient();
  await assert.rejects(client.getAccessToken(), (error) => {
    assert.match(String(error.message), /invalid_grant: Invalid JWT Signature\./);
    return true;
  });
});

await check("a JWT made by skyd's code verifies under Node's crypto", async () => {
  const jwt = process.env.SKYD_JWT;
  const [header, claims, signature] = jwt.split(".");
  assert.ok(header && claims && signature, "three parts");
  const publicKey = crypto.createPublicKey(crypto.createPrivateKey(key.private_key));
  const signed = Buffer.from(`${header}.${claims}`);
  const raw = Buffer.from(signature, "base64url");
  assert.equal(raw.toString("base64url"), signature, "canonical base64url, no padding");
  assert.ok(crypto.verify("RSA-SHA256", signed, publicKey, raw), "signature verifies");
  assert.ok(!crypto.verify("RSA-SHA256", Buffer.from(`${header}.${claims}x`), publicKey, raw));

  const decodedHeader = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
  assert.deepEqual(decodedHeader, { alg: "RS256", typ: "JWT", kid: key.private_key_id });
  const decoded = JSON.parse(Buffer.from(claims, "base64url").toString("utf8"));
  assert.equal(decoded.iss, key.client_email);
  assert.equal(decoded.aud, key.token_uri);
  assert.equal(decoded.scope, scopes[0]);
  assert.equal(decoded.exp - decoded.iat, 3600);
  assert.ok(Math.abs(decoded.iat - Date.now() / 1000) < 300, "iat is now");
});
