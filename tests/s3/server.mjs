// Starts s3rver for skyd's S3 tests and benchmark: loopback, its own data directory, the port
// chosen by the system; prints "ready PORT" on stdout once it listens.
//
// s3rver 3.7 verifies only SigV2 signatures: for SigV4 it checks that the access key exists and
// accepts any signature ("Signature version 4 calculation is unimplemented" in its
// authentication middleware). So that a wrong signature fails here as it would on S3, every
// header-signed request is re-signed with AWS's own signer (@smithy/signature-v4, the one the
// AWS SDK for JavaScript uses) over the headers the request says it signed, and refused with
// S3's SignatureDoesNotMatch when the signatures differ. The payload hash is taken from the
// request's x-amz-content-sha256 header (as S3 does); the body itself is not hashed here.
//
// Run it with `node --openssl-legacy-provider`: s3rver makes ListObjectsV2 continuation tokens
// with DES, which Node 20's OpenSSL 3 has only in its legacy provider.
//
// S3RVER_VERBOSE=1 makes s3rver log every request (to the test's s3rver.log).
//
// usage: node server.mjs --directory DIR [--access-key ID --secret-key SECRET] [--ready-fd N]
// (--ready-fd: the port is also written there, one line, and the descriptor closed)

import { closeSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');
const S3Error = require('s3rver/lib/models/error');
const AWSAccount = require('s3rver/lib/models/account');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Hash } = require('@smithy/hash-node');

const { values } = parseArgs({
  options: {
    directory: { type: 'string' },
    'access-key': { type: 'string', default: 'S3RVER' },
    'secret-key': { type: 'string', default: 'S3RVER' },
    'ready-fd': { type: 'string' },
  },
});
if (!values.directory) {
  console.error('usage: node server.mjs --directory DIR [--access-key ID --secret-key SECRET]');
  process.exit(2);
}

const secrets = new Map([[values['access-key'], values['secret-key']]]);
if (values['access-key'] !== 'S3RVER') {
  // s3rver's own registry only knows its default account: add ours to it.
  const account = AWSAccount.registry.get('S3RVER');
  account.createKeyPair(values['access-key'], values['secret-key']);
}

const kAuthorization =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

function signatureMismatch() {
  return new S3Error(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. ' +
      'Check your key and signing method.',
  );
}

async function verifySigV4(ctx, next) {
  const header = ctx.get('authorization');
  const match = kAuthorization.exec(header);
  if (!match) return next();  // anonymous or SigV2: s3rver's own checks apply
  const [, accessKey, , region, service, signedHeaders, signature] = match;
  const secret = secrets.get(accessKey);
  if (secret === undefined) return next();  // s3rver answers InvalidAccessKeyId
  const headers = {};
  for (const name of signedHeaders.split(';')) headers[name] = ctx.get(name);
  const raw = ctx.req.url;
  const question = raw.indexOf('?');
  const path = question < 0 ? raw : raw.slice(0, question);
  const query = {};
  if (question >= 0) {
    for (const piece of raw.slice(question + 1).split('&')) {
      if (!piece) continue;
      const equals = piece.indexOf('=');
      const name = decodeURIComponent(equals < 0 ? piece : piece.slice(0, equals));
      const value = equals < 0 ? '' : decodeURIComponent(piece.slice(equals + 1).replace(/\+/g, ' '));
      query[name] = value;
    }
  }
  const amzDate = ctx.get('x-amz-date');
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T` +
      `${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    credentials: { accessKeyId: accessKey, secretAccessKey: secret },
    region,
    service,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,  // S3 signs the path as sent
    applyChecksum: false,
  });
  const signed = await signer.sign(
    { method: ctx.method, protocol: 'http:', hostname: ctx.hostname, path,
      query, headers },
    { signingDate, unsignableHeaders: new Set(), signableHeaders: new Set(Object.keys(headers)) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization || '');
  if (!expected || expected[1] !== signature) throw signatureMismatch();
  return next();
}

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory: values.directory,
  silent: process.env.S3RVER_VERBOSE !== "1",
  allowMismatchedSignatures: false,
});
// After s3rver's logger and XML encoder (so the refusal is S3's XML error), before its routes.
server.middleware.splice(2, 0, verifySigV4);
const address = await server.run();
process.stdout.write(`ready ${address.port}\n`);
if (values['ready-fd'] !== undefined) {
  const fd = Number(values['ready-fd']);
  writeSync(fd, `${address.port}\n`);
  closeSync(fd);
}
// A test that crashes cannot kill its server: the server goes when its parent does.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) server.close(() => process.exit(0));
}, 500).unref();
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
