// Runs the graphql-http server audit (GraphQL over HTTP spec) against a URL and prints the results as JSON.
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql
// Output: {"total": N, "counts": {"ok": N, "notice": N, "warn": N, "error": N}, "results": [...]}; exit code 0
// whatever the results (the caller judges them), 2 on a bad invocation or a fatal audit error.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

try {
  const results = await auditServer({ url });
  const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
  const rows = [];
  for (const result of results) {
    counts[result.status] = (counts[result.status] ?? 0) + 1;
    const row = { id: result.id, name: result.name, status: result.status };
    if (result.status !== 'ok') {
      row.reason = result.reason;
      row.httpStatus = result.response?.status;
      row.body = await result.response?.text().catch(() => undefined);
    }
    rows.push(row);
  }
  console.log(JSON.stringify({ total: results.length, counts, results: rows }));
} catch (error) {
  console.error(`audit failed: ${error?.stack ?? error}`);
  process.exit(2);
}
