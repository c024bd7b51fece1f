// Checks GS1 Digital Link URIs with an independent parser (GS1's digital-link.js): prints, as
// JSON, each URI's validity (grammar and check digit), identifier, key qualifiers and
// attributes. Used by tests/api/digital_link.rs.
import pkg from "digital-link.js";

const { DigitalLink } = pkg;
const results = process.argv.slice(2).map((uri) => {
  try {
    const link = DigitalLink(uri);
    return {
      uri,
      valid: link.isValid(),
      identifier: link.getIdentifier(),
      keyQualifiers: link.getKeyQualifiers(),
      attributes: link.getAttributes(),
    };
  } catch (e) {
    return { uri, valid: false, error: String(e) };
  }
});
console.log(JSON.stringify(results));
