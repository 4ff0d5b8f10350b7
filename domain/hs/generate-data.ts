// Build step, run by hand: turns harmonized-system.csv into hs2022.json so domain code imports data, not files.
// Usage: npx tsx domain/hs/generate-data.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hsEntriesFromCsv } from './csv.js';

const dataDir = fileURLToPath(new URL('./nomenclature/', import.meta.url));
const entries = hsEntriesFromCsv(readFileSync(`${dataDir}harmonized-system.csv`, 'utf8'));
// One pair per line keeps diffs readable when the nomenclature is updated.
const body = entries.map((e) => JSON.stringify(e)).join(',\n');
writeFileSync(`${dataDir}hs2022.json`, `[\n${body}\n]\n`);
console.log(`wrote ${entries.length} HS entries to ${dataDir}hs2022.json`);
