#!/usr/bin/env node
// Generate UserSig test vectors with Tencent's official npm `tls-sig-api-v2`
// library under a fixed clock. Prints a pretty JSON array to stdout (or to
// --out FILE); merge it into the committed file with
//   python3 gen_vectors.py --merge <this output> --out ...
//
// The library must be resolvable by require('tls-sig-api-v2'), e.g.
//   NODE_PATH=/tmp/usersig-scratch/node_modules node gen_vectors.js
//
// Clock: the library uses Math.floor(Date.now() / 1000) (and, in
// genPrivateMapKey's userbuf, Date.now() / 1000 + expire), so Date.now is
// stubbed to return case.time * 1000 + 999 ms (also pins the flooring).
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const TLSSigAPIv2 = require('tls-sig-api-v2');
const VERSION = require('tls-sig-api-v2/package.json').version;
const SOURCE = `node tls-sig-api-v2 ${VERSION}`;

function withClock(seconds, fn) {
  const real = Date.now;
  Date.now = () => seconds * 1000 + 999;
  try {
    return fn();
  } finally {
    Date.now = real;
  }
}

function decode(usersig) {
  const std = usersig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  const raw = Buffer.from(std, 'base64');
  const body = zlib.inflateSync(raw).toString('utf8');
  return { header: raw.subarray(0, 2).toString('hex'), text: body, doc: JSON.parse(body) };
}

function genOne(c) {
  const api = new TLSSigAPIv2.Api(c.sdkappid, c.key);
  return withClock(c.time, () => {
    if (c.userbuf_b64 === null || c.userbuf_b64 === undefined) {
      return api.genUserSig(c.identifier, c.expire);
    }
    // genSig(userid, expire, userBuf) is the library's public generic entry
    // point; genUserSig/genPrivateMapKey are thin wrappers around it.
    return api.genSig(c.identifier, c.expire, Buffer.from(c.userbuf_b64, 'base64'));
  });
}

function record(c, sig, userbufB64) {
  const { doc } = decode(sig);
  const want = userbufB64 === undefined ? null : userbufB64;
  if (doc['TLS.time'] !== c.time || doc['TLS.expire'] !== c.expire ||
      doc['TLS.sdkappid'] !== c.sdkappid || doc['TLS.identifier'] !== c.identifier ||
      (doc['TLS.userbuf'] === undefined ? null : doc['TLS.userbuf']) !== want) {
    throw new Error(`sanity check failed for ${JSON.stringify(c)}: ${JSON.stringify(doc)}`);
  }
  return {
    source: SOURCE,
    sdkappid: c.sdkappid,
    identifier: c.identifier,
    key: c.key,
    time: c.time,
    expire: c.expire,
    userbuf_b64: want,
    usersig: sig,
  };
}

function main() {
  const args = process.argv.slice(2);
  let casesPath = path.join(__dirname, 'cases.json');
  let out = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--cases') casesPath = args[++i];
    else if (args[i] === '--out') out = args[++i];
    else throw new Error(`unknown argument ${args[i]}`);
  }
  const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
  const vectors = cases.map((c) => record(c, genOne(c), c.userbuf_b64));

  // Node-only: genPrivateMapKey builds the TRTC userbuf itself (numeric room
  // 1234, privilege 255); the userbuf is read back from the generated sig.
  {
    const c = { sdkappid: 1400123456, identifier: 'user_01', key: 'secret', time: 1700000000, expire: 300 };
    const api = new TLSSigAPIv2.Api(c.sdkappid, c.key);
    const sig = withClock(c.time, () => api.genPrivateMapKey(c.identifier, c.expire, 1234, 255));
    vectors.push(record(c, sig, decode(sig).doc['TLS.userbuf']));
  }

  const text = JSON.stringify(vectors, null, 2) + '\n';
  if (out) fs.writeFileSync(out, text);
  else process.stdout.write(text);

  const headers = new Set();
  const orders = new Set();
  let sample = null;
  let sampleNonAscii = null;
  for (const v of vectors) {
    const d = decode(v.usersig);
    headers.add(d.header);
    orders.add(Object.keys(d.doc).join(','));
    if (!sample) sample = d.text;
    // eslint-disable-next-line no-control-regex
    if (!sampleNonAscii && /[^\x00-\x7f]/.test(d.text)) sampleNonAscii = d.text;
  }
  process.stderr.write(`[${SOURCE}] zlib headers: ${[...headers].sort().join(', ')}\n`);
  for (const o of [...orders].sort()) process.stderr.write(`[${SOURCE}] key order: ${o}\n`);
  process.stderr.write(`[${SOURCE}] sample JSON: ${sample}\n`);
  if (sampleNonAscii) process.stderr.write(`[${SOURCE}] sample JSON: ${sampleNonAscii}\n`);
  process.stderr.write(`gen_vectors.js: ${vectors.length} vectors\n`);
}

main();
