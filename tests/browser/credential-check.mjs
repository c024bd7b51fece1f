// Checks certrail's Verifiable Credentials with an independent library (panva's jose): verifies
// each compact JWS (typ vc+jwt, EdDSA) against the JWK set given, and for a Bitstring Status
// List credential reads the bits asked for. Prints JSON. Used by tests/api/credentials.rs.
//
// node credential-check.mjs JWKS_JSON JWT [INDEX ...]
import { gunzipSync } from "node:zlib";
import { createLocalJWKSet, jwtVerify } from "jose";

const [jwks, jwt, ...indexes] = process.argv.slice(2);
try {
  const keys = createLocalJWKSet(JSON.parse(jwks));
  const { payload, protectedHeader } = await jwtVerify(jwt, keys, { typ: "vc+jwt", algorithms: ["EdDSA"] });
  const out = { verified: true, header: protectedHeader, payload };
  const encoded = payload?.credentialSubject?.encodedList;
  if (encoded) {
    if (!encoded.startsWith("u")) throw new Error("encodedList is not multibase base64url");
    const bits = gunzipSync(Buffer.from(encoded.slice(1), "base64url"));
    out.length = bits.length * 8;
    out.bits = indexes.map(Number).map((i) => (bits[i >> 3] >> (7 - (i & 7))) & 1);
  }
  console.log(JSON.stringify(out));
} catch (e) {
  console.log(JSON.stringify({ verified: false, error: String(e) }));
}
