#!/usr/bin/env node
// Node counterpart of verify_rust.py (positive mode only): checks each UserSig
// in a JSON array of {sdkappid, identifier, key, time?, expire?,
// userbuf_b64?, usersig} records against the official npm `tls-sig-api-v2`
// library. The library has no verify function, so this decodes the sig
// (reverse `*`->`+`, `-`->`/`, `_`->`=`, base64, zlib inflate, JSON.parse),
// checks the fields, and recomputes TLS.sig with the library's own
// `Api.prototype._hmacsha256` (and an independent crypto.createHmac call).
//
//   NODE_PATH=/tmp/usersig-scratch/node_modules node verify_rust.js FILE [-v]
//
// Exit 0 if all pass, 1 on any failure, 2 on usage errors.
// Last line: "verify_rust: N passed, N failed".
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const zlib = require('zlib');
let TLSSigAPIv2;
let VERSION;
try {
  TLSSigAPIv2 = require('tls-sig-api-v2');
  VERSION = require('tls-sig-api-v2/package.json').version;
} catch (e) {
  process.stderr.write('verify_rust.js: cannot require tls-sig-api-v2; npm install tls-sig-api-v2@1.0.2 and set NODE_PATH\n');
  process.exit(2);
}

class Reject extends Error {
  constructor(category, detail) {
    super(`${category}: ${detail}`);
    this.category = category;
    this.detail = detail;
  }
}

const isUint = (v) => Number.isSafeInteger(v) && v >= 0;

function decode(usersig) {
  if (typeof usersig !== 'string' || !usersig) throw new Reject('malformed', 'usersig is not a non-empty string');
  const std = usersig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  // Buffer.from(..., 'base64') silently skips junk, so validate first.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(std) || std.length % 4 !== 0) {
    throw new Reject('malformed', 'not valid (padded) base64url-with-*-_ text');
  }
  const raw = Buffer.from(std, 'base64');
  let body;
  try {
    body = zlib.inflateSync(raw); // zlib wrapper required; throws on truncation
  } catch (e) {
    throw new Reject('malformed', `zlib: ${e.message}`);
  }
  let doc;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (e) {
    throw new Reject('malformed', `json: ${e.message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Reject('malformed', 'json: top level is not an object');
  return { header: raw.subarray(0, 2).toString('hex'), doc };
}

function independentHmac(sdkappid, key, identifier, time, expire, userbuf) {
  let msg = `TLS.identifier:${identifier}\nTLS.sdkappid:${sdkappid}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  if (userbuf !== null) msg += `TLS.userbuf:${userbuf}\n`;
  return crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(Buffer.from(msg, 'utf8')).digest('base64');
}

function verify(rec) {
  const { header, doc } = decode(rec.usersig);
  for (const f of ['TLS.ver', 'TLS.identifier', 'TLS.sdkappid', 'TLS.time', 'TLS.expire', 'TLS.sig']) {
    if (!(f in doc)) throw new Reject('malformed', `missing field ${f}`);
  }
  if (doc['TLS.ver'] !== '2.0') throw new Reject('malformed', `TLS.ver is ${JSON.stringify(doc['TLS.ver'])}`);
  if (typeof doc['TLS.identifier'] !== 'string' || typeof doc['TLS.sig'] !== 'string') throw new Reject('malformed', 'identifier/sig not strings');
  for (const f of ['TLS.sdkappid', 'TLS.time', 'TLS.expire']) {
    if (!isUint(doc[f])) throw new Reject('malformed', `${f} is not a non-negative integer`);
  }
  if ('TLS.userbuf' in doc && typeof doc['TLS.userbuf'] !== 'string') throw new Reject('malformed', 'TLS.userbuf not a string');
  if (doc['TLS.sdkappid'] !== rec.sdkappid) throw new Reject('sdkappid_mismatch', `sig claims ${doc['TLS.sdkappid']}, expected ${rec.sdkappid}`);
  if (doc['TLS.identifier'] !== rec.identifier) throw new Reject('identifier_mismatch', `sig claims ${JSON.stringify(doc['TLS.identifier'])}`);
  for (const f of ['time', 'expire']) {
    if (rec[f] !== undefined && rec[f] !== null && doc[`TLS.${f}`] !== rec[f]) throw new Reject('field_mismatch', `TLS.${f} is ${doc[`TLS.${f}`]}, expected ${rec[f]}`);
  }
  const wantUb = rec.userbuf_b64 === undefined ? null : rec.userbuf_b64;
  const gotUb = doc['TLS.userbuf'] === undefined ? null : doc['TLS.userbuf'];
  if (wantUb !== gotUb) throw new Reject('field_mismatch', `TLS.userbuf is ${JSON.stringify(gotUb)}, expected ${JSON.stringify(wantUb)}`);

  const api = new TLSSigAPIv2.Api(rec.sdkappid, rec.key);
  const official = api._hmacsha256(doc['TLS.identifier'], doc['TLS.time'], doc['TLS.expire'], gotUb);
  const indep = independentHmac(rec.sdkappid, rec.key, doc['TLS.identifier'], doc['TLS.time'], doc['TLS.expire'], gotUb);
  if (official !== indep) throw new Reject('internal_error', `official ${official} != independent ${indep}`);
  if (doc['TLS.sig'] !== official) throw new Reject('bad_signature', `TLS.sig ${doc['TLS.sig']}, recomputed ${official}`);
  return `zlib=${header} keys=${Object.keys(doc).join(',')}`;
}

function main() {
  const args = process.argv.slice(2);
  const verbose = args.includes('-v');
  const files = args.filter((a) => a !== '-v');
  if (files.length !== 1) {
    process.stderr.write('usage: node verify_rust.js FILE [-v]\n');
    process.exit(2);
  }
  let records;
  try {
    records = JSON.parse(fs.readFileSync(files[0], 'utf8'));
  } catch (e) {
    process.stderr.write(`verify_rust.js: cannot read ${files[0]}: ${e.message}\n`);
    process.exit(2);
  }
  if (!Array.isArray(records)) {
    process.stderr.write('verify_rust.js: input must be a JSON array\n');
    process.exit(2);
  }
  let passed = 0;
  let failed = 0;
  records.forEach((rec, i) => {
    const label = `#${i} ${rec.case || rec.source || ''} sdkappid=${rec.sdkappid} identifier=${JSON.stringify(rec.identifier)}`;
    try {
      const info = verify(rec);
      passed++;
      if (verbose) console.log(`PASS ${label}: ok - ${info}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${label}: ${e instanceof Reject ? e.category + ' - ' + e.detail : 'error - ' + e.message}`);
    }
  });
  console.log(`(official node tls-sig-api-v2 ${VERSION}, ${files[0]})`);
  console.log(`verify_rust: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
