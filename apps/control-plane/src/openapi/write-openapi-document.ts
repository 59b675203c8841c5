import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportOpenApiDocument } from './export-openapi-document';

/** `node dist/openapi/write-openapi-document.js <file.json>`: writes the OpenAPI document (nothing started). */
async function main(): Promise<void> {
  const target = process.argv[2];
  if (target === undefined) {
    process.stderr.write('usage: write-openapi-document <output file.json>\n');
    process.exit(2);
  }
  const document = await exportOpenApiDocument();
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(
    `OpenAPI document (${Object.keys(document.paths).length} paths) written to ${target}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
