// civreg test: parse MRZs made by `civreg mrz generate` with the independent
// npm package mrz (cheminfo/mrz, pinned in tests/package.json) and compare
// its fields with what `civreg mrz parse` reported.
// Usage: node npm_check.mjs SAMPLES.json   (an array of {lines, fields})
// Exit 0 when every sample is valid there with the same fields, 1 otherwise.
import { readFileSync } from 'node:fs';
import { parse } from 'mrz';

const samples = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const yymmdd = (d) => d.slice(2, 4) + d.slice(5, 7) + d.slice(8, 10);
const sexes = { F: 'female', M: 'male', '<': 'nonspecified' };
let bad = 0;

for (const [i, s] of samples.entries()) {
  const r = parse(s.lines);
  const f = s.fields;
  const want = {
    format: s.format,
    documentNumber: f.document_number,
    birthDate: yymmdd(f.date_of_birth),
    expirationDate: yymmdd(f.date_of_expiry),
    lastName: f.primary_identifier,
    firstName: f.secondary_identifier,
    issuingState: f.issuing_state,
    nationality: f.nationality,
    sex: sexes[f.sex],
  };
  if (s.format === 'TD3') want.personalNumber = f.optional_data;
  if (s.format === 'TD1') want.optional2 = f.optional_data_2;
  if (s.format !== 'TD3' && f.document_number.length <= 9)
    want[s.format === 'TD1' ? 'optional1' : 'optional'] = f.optional_data;
  const problems = [];
  if (!r.valid) {
    const why = r.details.filter((d) => !d.valid).map((d) => `${d.field}: ${d.error}`);
    problems.push(`not valid for npm mrz (${why.join('; ')})`);
  }
  for (const [k, v] of Object.entries(want)) {
    const have = k === 'format' ? r.format : r.fields[k];
    if ((have ?? '') !== v) problems.push(`${k}: npm mrz has ${JSON.stringify(have)}, civreg ${JSON.stringify(v)}`);
  }
  if (problems.length) {
    bad++;
    console.log(`sample ${i}:\n  ${s.lines.join('\n  ')}\n  ${problems.join('\n  ')}`);
  }
}
console.log(`npm mrz: ${samples.length - bad} of ${samples.length} samples agree`);
process.exit(bad || samples.length === 0 ? 1 : 0);
