// A minimal RFC 4180 CSV reader (quoted fields, doubled quotes, CRLF) for the HS data files.
// Pure: takes text, returns rows; used by the data generator and the test that checks the generated file.

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** `[code, description]` for every chapter, heading and subheading row of `harmonized-system.csv`. */
export function hsEntriesFromCsv(text: string): Array<[string, string]> {
  const [header, ...rows] = parseCsv(text);
  const codeAt = header?.indexOf('hscode') ?? -1;
  const descriptionAt = header?.indexOf('description') ?? -1;
  if (codeAt < 0 || descriptionAt < 0) throw new Error('harmonized-system.csv: missing hscode/description columns');
  return rows
    .filter((r) => r.length > Math.max(codeAt, descriptionAt))
    .map((r) => [r[codeAt]!, r[descriptionAt]!] as [string, string]);
}
