// Google's official Node client (@google-cloud/compute, REST transport) against fakecloud's
// Compute Engine API: requests it builds must be understood, answers it parses must come out
// whole, and a zone's exhaustion must reach it the way GCE's does (in the DONE operation).
import {
  FirewallsClient, GlobalOperationsClient, InstancesClient, ZoneOperationsClient,
} from '@google-cloud/compute';
import {OAuth2Client} from 'google-auth-library';
import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';

const base = new URL(process.env.FAKECLOUD_URL);
const project = 'sdk-check-project';
const zone = 'us-central1-a';
const cluster = 'sdk-check';

async function admin(path, body) {
  const response = await fetch(new URL(path, base), {
    method: 'POST',
    headers: body ? {'Content-Type': 'application/json'} : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  assert.equal(response.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

// The SDK's own auth: an OAuth2 client holding an access token fakecloud issued.
function clientsWith(accessToken) {
  const authClient = new OAuth2Client();
  authClient.setCredentials({access_token: accessToken});
  const options = {
    fallback: true, // REST transport
    apiEndpoint: base.hostname,
    port: Number(base.port),
    protocol: 'http',
    authClient,
  };
  return {
    instances: new InstancesClient(options),
    operations: new ZoneOperationsClient(options),
    firewalls: new FirewallsClient(options),
    globalOperations: new GlobalOperationsClient(options),
  };
}

// Google's documented pattern: wait on the zone operation until it is DONE.
async function untilDone(operations, operation) {
  let current = operation;
  for (let i = 0; i < 20 && current.status !== 'DONE'; i++) {
    [current] = await operations.wait({project, zone, operation: current.name});
  }
  assert.equal(current.status, 'DONE', JSON.stringify(current));
  return current;
}

function instanceResource(name) {
  return {
    name,
    machineType: `zones/${zone}/machineTypes/e2-medium`,
    labels: {'skyd-cluster': cluster, 'skyd-controller': 'sdk'},
    scheduling: {provisioningModel: 'SPOT', instanceTerminationAction: 'DELETE'},
    disks: [{
      boot: true,
      autoDelete: true,
      initializeParams: {
        diskSizeGb: '20',
        diskType: `zones/${zone}/diskTypes/pd-balanced`,
        sourceImage: 'projects/debian-cloud/global/images/family/debian-12',
      },
    }],
    networkInterfaces: [{accessConfigs: [{type: 'ONE_TO_ONE_NAT', name: 'External NAT'}]}],
    metadata: {items: [{key: 'skyd-note', value: 'cross-check'}]},
  };
}

const {access_token: token} = await admin('/_admin/gcp/tokens');
const {instances, operations, firewalls, globalOperations} = clientsWith(token);

// insert (with a requestId), then wait for its operation.
const requestId = randomUUID();
const [inserted] = await instances.insert({
  project, zone, requestId, instanceResource: instanceResource('sdk-node-1'),
});
const insertOperation = inserted.latestResponse;
assert.equal(insertOperation.operationType, 'insert');
assert.ok(['PENDING', 'RUNNING'].includes(insertOperation.status), insertOperation.status);
const [again] = await instances.insert({
  project, zone, requestId, instanceResource: instanceResource('sdk-node-1'),
});
assert.equal(again.latestResponse.name, insertOperation.name, 'a repeated requestId is one operation');
const insertDone = await untilDone(operations, insertOperation);
assert.ok(!insertDone.error, JSON.stringify(insertDone.error));

// get
const [instance] = await instances.get({project, zone, instance: 'sdk-node-1'});
assert.equal(instance.name, 'sdk-node-1');
assert.match(instance.id, /^\d+$/);
assert.ok(['STAGING', 'RUNNING'].includes(instance.status), instance.status);
assert.equal(instance.labels['skyd-cluster'], cluster);
assert.equal(instance.scheduling.provisioningModel, 'SPOT');
assert.equal(instance.scheduling.instanceTerminationAction, 'DELETE');
assert.ok(instance.machineType.endsWith(`/zones/${zone}/machineTypes/e2-medium`));
assert.equal(instance.disks[0].initializeParams.diskType.split('/').pop(), 'pd-balanced');
assert.equal(instance.networkInterfaces[0].accessConfigs[0].natIP,
             instance.networkInterfaces[0].networkIP);

// list with a label filter, and across zones
const [other] = await instances.insert({
  project, zone, instanceResource: {...instanceResource('sdk-other'), labels: {'skyd-cluster': 'other'}},
});
await untilDone(operations, other.latestResponse);
const listed = [];
for await (const item of instances.listAsync({project, zone, filter: `labels.skyd-cluster=${cluster}`})) {
  listed.push(item.name);
}
assert.deepEqual(listed, ['sdk-node-1']);
const everywhere = [];
for await (const [scope, scoped] of instances.aggregatedListAsync({project, filter: 'labels.skyd-cluster:*'})) {
  for (const item of scoped.instances ?? []) everywhere.push(`${scope}/${item.name}`);
}
assert.deepEqual(everywhere.sort(), [`zones/${zone}/sdk-node-1`, `zones/${zone}/sdk-other`]);

// delete
for (const name of ['sdk-node-1', 'sdk-other']) {
  const [deleted] = await instances.delete({project, zone, instance: name, requestId: randomUUID()});
  assert.equal(deleted.latestResponse.operationType, 'delete');
  await untilDone(operations, deleted.latestResponse);
}
await assert.rejects(instances.get({project, zone, instance: 'sdk-node-1'}),
                     (error) => error.code === 404 || /not found/i.test(error.message));

// A zone without capacity: the insert is accepted, its DONE operation carries the error.
await admin('/_admin/gcp/faults', {action: 'insert', zone, code: 'ZONE_RESOURCE_POOL_EXHAUSTED'});
const [full] = await instances.insert({project, zone, instanceResource: instanceResource('sdk-full')});
const fullDone = await untilDone(operations, full.latestResponse);
assert.equal(fullDone.error?.errors?.[0]?.code, 'ZONE_RESOURCE_POOL_EXHAUSTED', JSON.stringify(fullDone));

// A VPC firewall rule: insert and get through a global operation, a name in use (409), a port
// out of range (400), delete (then 404).
async function untilGlobalDone(operation) {
  let current = operation;
  for (let i = 0; i < 20 && current.status !== 'DONE'; i++) {
    [current] = await globalOperations.wait({project, operation: current.name});
  }
  assert.equal(current.status, 'DONE', JSON.stringify(current));
  assert.ok(!current.error, JSON.stringify(current.error));
  return current;
}
function firewallResource(name, ports) {
  return {
    name,
    network: 'global/networks/default',
    direction: 'INGRESS',
    allowed: [{IPProtocol: 'tcp', ports}],
    sourceRanges: ['0.0.0.0/0'],
    targetTags: [name],
  };
}
const [ruleInsert] = await firewalls.insert({
  project, firewallResource: firewallResource('sdk-ports', ['8080', '9000-9010']),
});
assert.equal(ruleInsert.latestResponse.operationType, 'insert');
await untilGlobalDone(ruleInsert.latestResponse);
const [rule] = await firewalls.get({project, firewall: 'sdk-ports'});
assert.equal(rule.direction, 'INGRESS');
// Decoded messages carry the client's own `_field` markers: compare the fields themselves.
assert.equal(rule.allowed.length, 1, JSON.stringify(rule.allowed));
assert.equal(rule.allowed[0].IPProtocol, 'tcp');
assert.deepEqual([...rule.allowed[0].ports], ['8080', '9000-9010']);
assert.deepEqual([...rule.sourceRanges], ['0.0.0.0/0']);
assert.deepEqual([...rule.targetTags], ['sdk-ports']);
assert.ok(rule.network.endsWith('/global/networks/default'), rule.network);
await assert.rejects(
    firewalls.insert({project, firewallResource: firewallResource('sdk-ports', ['8080'])}),
    (error) => error.code === 409 || error.code === 6 || /already exists/i.test(error.message));
await assert.rejects(
    firewalls.insert({project, firewallResource: firewallResource('sdk-bad', ['70000'])}),
    (error) => error.code === 400 || error.code === 3 || /port/i.test(error.message));
const ruleNames = [];
for await (const item of firewalls.listAsync({project})) ruleNames.push(item.name);
assert.deepEqual(ruleNames, ['sdk-ports']);
const [ruleDelete] = await firewalls.delete({project, firewall: 'sdk-ports'});
assert.equal(ruleDelete.latestResponse.operationType, 'delete');
await untilGlobalDone(ruleDelete.latestResponse);
await assert.rejects(firewalls.get({project, firewall: 'sdk-ports'}),
                     (error) => error.code === 404 || /not found/i.test(error.message));

// A token fakecloud never issued is refused with 401.
const stranger = clientsWith('ya29.not-issued-by-fakecloud');
await assert.rejects(stranger.instances.get({project, zone, instance: 'sdk-node-1'}),
                     (error) => error.code === 401 || /401|UNAUTHENTICATED|credentials/i.test(error.message));

const stats = await (await fetch(new URL('/_admin/gcp/stats', base))).json();
assert.equal(stats.live, 0, JSON.stringify(stats));
console.log('gce sdk check passed');
