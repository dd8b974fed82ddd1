// Composes a supergraph from running subgraphs with @apollo/composition (Federation v2).
// Usage: node compose.mjs [--out supergraph.graphql] name=http://host/graphql [name=url ...]
// Each subgraph's SDL is read from its `{ _service { sdl } }`. Composition errors are printed and exit 1;
// hints go to stderr. The supergraph SDL goes to --out (or stdout).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

const { values, positionals } = parseArgs({
  options: { out: { type: 'string' }, timeout: { type: 'string', default: '30000' } },
  allowPositionals: true,
});
if (positionals.length === 0) {
  console.error('usage: node compose.mjs [--out FILE] name=url [name=url ...]');
  process.exit(2);
}

async function fetchSdl(name, url) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
    signal: AbortSignal.timeout(Number(values.timeout)),
  });
  const body = await response.json();
  const sdl = body?.data?._service?.sdl;
  if (!response.ok || typeof sdl !== 'string') {
    throw new Error(`${name} (${url}) gave no _service.sdl: HTTP ${response.status} ${JSON.stringify(body)}`);
  }
  return sdl;
}

const services = await Promise.all(positionals.map(async (spec) => {
  const at = spec.indexOf('=');
  if (at <= 0) throw new Error(`expected name=url, got ${spec}`);
  const name = spec.slice(0, at);
  const url = spec.slice(at + 1);
  return { name, url, typeDefs: parse(await fetchSdl(name, url)) };
}));

const result = composeServices(services);
for (const hint of result.hints ?? []) console.error(`hint: ${hint.toString()}`);
if (result.errors?.length) {
  for (const error of result.errors) console.error(`composition error: ${error.toString()}`);
  process.exit(1);
}
if (values.out) {
  writeFileSync(values.out, result.supergraphSdl);
  console.log(`supergraph: ${values.out} (${services.map((s) => s.name).join(', ')})`);
} else {
  process.stdout.write(result.supergraphSdl);
}
