// Google's official Node client (@google-cloud/storage) against fakecloud's Cloud Storage JSON
// API: bucket insert, a simple (multipart) and a chunked resumable upload whose checksums the
// client verifies, listing with a prefix, a delimiter and pages, downloads (whole and a range)
// whose hashes it verifies, deletes, and Google's 404 and 409 errors as ApiErrors.
import {Storage} from '@google-cloud/storage';
import {OAuth2Client} from 'google-auth-library';
import assert from 'node:assert/strict';
import {createHash, randomBytes} from 'node:crypto';
import {Readable} from 'node:stream';
import {pipeline} from 'node:stream/promises';

const base = new URL(process.env.FAKECLOUD_URL);
const project = 'sdk-check-project';
const account = `sdk-check@${project}.iam.gserviceaccount.com`;

async function admin(method, path) {
  const response = await fetch(new URL(path, base), {method});
  const text = await response.text();
  assert.equal(response.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

// The client's own auth: an OAuth2 client holding an access token fakecloud issued. A custom
// endpoint drops auth unless useAuthWithCustomEndpoint is set.
const minted = await admin('POST', `/_admin/gcp/tokens?account=${encodeURIComponent(account)}`);
const authClient = new OAuth2Client();
authClient.setCredentials({access_token: minted.access_token});
const storage = new Storage({
  apiEndpoint: base.origin,
  projectId: project,
  authClient,
  useAuthWithCustomEndpoint: true,
  retryOptions: {autoRetry: false},
});

const md5 = bytes => createHash('md5').update(bytes).digest('base64');

// Bucket insert.
const [bucket, created] = await storage.createBucket('sdk-check-bucket');
assert.equal(created.name, 'sdk-check-bucket');
assert.equal(created.kind, 'storage#bucket');
const [buckets] = await storage.getBuckets();
assert.deepEqual(buckets.map(b => b.name), ['sdk-check-bucket']);

// Version 7 does not hand useAuthWithCustomEndpoint to its resumable uploads (File's
// startResumableUpload_ leaves it out, so they would go without a token to any custom
// endpoint): files that upload resumably carry the token through Storage's request
// interceptors, which the resumable path applies to its requests. Only those File objects get it.
function resumableFile(name) {
  const file = bucket.file(name);
  file.interceptors.push({
    request: options => ({
      ...options,
      headers: {...options.headers, Authorization: `Bearer ${minted.access_token}`},
    }),
  });
  return file;
}

// A simple upload (multipart, one request) with user metadata.
const small = bucket.file('notes/small.txt');
await small.save('hello from the node client\n', {
  resumable: false,
  contentType: 'text/plain',
  metadata: {metadata: {origin: 'sdk-check'}},
});
const [smallMeta] = await small.getMetadata();
assert.equal(smallMeta.size, '27');
assert.equal(smallMeta.contentType, 'text/plain');
assert.equal(smallMeta.metadata.origin, 'sdk-check');
assert.equal(smallMeta.md5Hash, md5('hello from the node client\n'));

// A resumable upload of a few MiB in 256 KiB chunks: the client checks the 308s' Range, and the
// final object's crc32c and md5Hash against what it sent.
const large = randomBytes(3 * 1024 * 1024 + 4321);
const largeFile = bucket.file('data/large.bin');
await pipeline(Readable.from([large]), resumableFile('data/large.bin').createWriteStream({
  resumable: true,
  chunkSize: 256 * 1024,
  validation: 'md5',
  metadata: {contentType: 'application/octet-stream'},
}));
const [largeMeta] = await largeFile.getMetadata();
assert.equal(Number(largeMeta.size), large.length);
assert.equal(largeMeta.md5Hash, md5(large));
// One request for the whole stream ("bytes 0-*/*").
const streamed = bucket.file('data/streamed.bin');
await pipeline(Readable.from([large.subarray(0, 700000)]),
               resumableFile('data/streamed.bin').createWriteStream({resumable: true, validation: 'crc32c'}));
assert.equal((await streamed.getMetadata())[0].size, '700000');
const uploads = await admin('GET', '/_admin/gcs/uploads');
assert.ok(uploads.uploads.length >= 2 && uploads.uploads.every(u => u.finished),
          JSON.stringify(uploads));

// Downloads: whole (the client validates the hashes in X-Goog-Hash) and a range.
const [whole] = await largeFile.download({validation: true});
assert.ok(whole.equals(large), 'the large object came back different');
const [slice] = await largeFile.download({start: 1000, end: 1999});
assert.ok(slice.equals(large.subarray(1000, 2000)), 'the range came back different');

// Listing: a prefix, a delimiter (prefixes) and pages.
for (let i = 0; i < 5; i++) await bucket.file(`many/item-${i}`).save(`item ${i}`, {resumable: false});
const [underMany] = await bucket.getFiles({prefix: 'many/'});
assert.deepEqual(underMany.map(f => f.name), [0, 1, 2, 3, 4].map(i => `many/item-${i}`));
const [, , top] = await bucket.getFiles({delimiter: '/', autoPaginate: false});
assert.deepEqual(top.prefixes, ['data/', 'many/', 'notes/']);
let pages = 0;
const names = [];
let query = {prefix: 'many/', maxResults: 2, autoPaginate: false};
while (query) {
  const [files, next] = await bucket.getFiles(query);
  names.push(...files.map(f => f.name));
  pages++;
  query = next;
}
assert.equal(pages, 3);
assert.equal(names.length, 5);

// Errors: Google's 404 and 409 arrive as ApiErrors with their code and message.
await assert.rejects(bucket.file('no/such/object').download(), error => {
  assert.equal(error.code, 404);
  assert.match(error.message, /No such object: sdk-check-bucket\/no\/such\/object/);
  return true;
});
await assert.rejects(storage.createBucket('sdk-check-bucket'), error => {
  assert.equal(error.code, 409);
  return true;
});
await assert.rejects(bucket.delete(), error => {
  assert.equal(error.code, 409);
  return true;
});

// Deletes, then the bucket.
const [all] = await bucket.getFiles();
for (const file of all) await file.delete();
assert.equal((await bucket.getFiles())[0].length, 0);
await bucket.delete();
assert.equal((await bucket.exists())[0], false);
const stats = await admin('GET', '/_admin/gcs/stats');
assert.equal(stats.buckets, 0);
assert.equal(stats.auth_failures, 0);
// The large upload went in 256 KiB chunks: at least 13 PUTs to its session.
assert.ok(stats.calls['objects.resume'] >= 13, JSON.stringify(stats.calls));
console.log('gcs sdk check passed');
