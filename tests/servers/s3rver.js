// s3rver.js - the S3 server of the storage tests: @20minutes/s3rver, which
// checks SigV4 signatures (keys S3RVER/S3RVER), on loopback.
// usage: node --openssl-legacy-provider s3rver.js PORT DIR BUCKET...
// (the legacy provider: its listing continuation tokens use DES)
// S3RVER_KEYS="AKID:SECRET,..." adds key pairs it accepts, so that a test
// can give each credentials source keys that no other source has.
const path = require('node:path');
const lib = path.join(process.env.DUCKMIG_TEST_SERVERS, 'node_modules/@20minutes/s3rver');
const S3rver = require(lib);
const { DUMMY_ACCOUNT } = require(path.join(lib, 'lib/models/account'));
for (const pair of (process.env.S3RVER_KEYS || '').split(',').filter(Boolean)) {
  const i = pair.indexOf(':');
  DUMMY_ACCOUNT.createKeyPair(pair.slice(0, i), pair.slice(i + 1));
}
const [port, dir, ...buckets] = process.argv.slice(2);
new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory: dir,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
}).run().then(() => console.log('ready'));
