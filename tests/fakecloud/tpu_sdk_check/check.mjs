// Google's official Node client (@google-cloud/tpu v2, REST transport) against fakecloud's Cloud
// TPU API: a node created, its long-running operation followed to the end, got, listed (one zone
// and every zone), deleted; 404 NOT_FOUND, 409 ALREADY_EXISTS and 429 RESOURCE_EXHAUSTED (quota)
// reach the client as Google sends them. google-auth-library is pinned to the version google-gax
// (the client's transport) uses, so the OAuth2Client given is the one it recognises.
import {v2} from '@google-cloud/tpu';
import {OAuth2Client} from 'google-auth-library';
import assert from 'node:assert/strict';

const base = new URL(process.env.FAKECLOUD_URL);
const project = 'sdk-check-project';
const zone = 'us-central1-b';
const parent = `projects/${project}/locations/${zone}`;

async function admin(path) {
  const response = await fetch(new URL(path, base), {method: 'POST'});
  const text = await response.text();
  assert.equal(response.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

const {access_token: token} = await admin('/_admin/gcp/tokens');
const authClient = new OAuth2Client();
authClient.setCredentials({access_token: token});
const tpu = new v2.TpuClient({
  fallback: true, // REST transport
  apiEndpoint: base.hostname,
  port: Number(base.port),
  protocol: 'http',
  authClient,
});

const node = {
  acceleratorType: 'v2-8',
  runtimeVersion: 'tpu-vm-base',
  networkConfig: {network: 'global/networks/default', enableExternalIps: false},
  schedulingConfig: {spot: true},
  labels: {'skyd-cluster': 'sdk-check'},
  metadata: {'startup-script': '#!/bin/sh\ntrue\n'},
};

// create, and the long-running operation to its end (the client polls operations.get)
const [operation] = await tpu.createNode({parent, nodeId: 'sdk-tpu', node});
const [created] = await operation.promise();
assert.equal(created.name, `${parent}/nodes/sdk-tpu`);
assert.equal(created.acceleratorType, 'v2-8');

// get
const [got] = await tpu.getNode({name: `${parent}/nodes/sdk-tpu`});
assert.ok(['READY', 2].includes(got.state), String(got.state));
assert.equal(got.runtimeVersion, 'tpu-vm-base');
assert.equal(got.schedulingConfig.spot, true);
assert.equal(got.labels['skyd-cluster'], 'sdk-check');
assert.equal(got.networkEndpoints.length, 1);
assert.ok(got.networkEndpoints[0].ipAddress);

// list: the zone, and every zone ("-")
const [inZone] = await tpu.listNodes({parent});
assert.deepEqual(inZone.map((n) => n.name), [`${parent}/nodes/sdk-tpu`]);
const everywhere = [];
for await (const item of tpu.listNodesAsync({parent: `projects/${project}/locations/-`})) {
  everywhere.push(item.name);
}
assert.deepEqual(everywhere, [`${parent}/nodes/sdk-tpu`]);

// the same id again: 409 ALREADY_EXISTS
await assert.rejects(tpu.createNode({parent, nodeId: 'sdk-tpu', node}),
                     (error) => error.code === 409 || error.code === 6 ||
                         /already exists/i.test(error.message));

// quota: 429 RESOURCE_EXHAUSTED naming the quota
await admin('/_admin/gcp/tpu_fail_next?error=quota');
await assert.rejects(tpu.createNode({parent, nodeId: 'sdk-tpu-2', node}),
                     (error) => /Quota limit/.test(error.message));

// delete, to the end of its operation; then 404 NOT_FOUND
const [deletion] = await tpu.deleteNode({name: `${parent}/nodes/sdk-tpu`});
await deletion.promise();
await assert.rejects(tpu.getNode({name: `${parent}/nodes/sdk-tpu`}),
                     (error) => error.code === 404 || error.code === 5 ||
                         /not found/i.test(error.message));
console.log('tpu sdk check: ok');
