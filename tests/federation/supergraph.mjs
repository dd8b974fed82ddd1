// Serves a composed supergraph with @apollo/gateway + @apollo/server on 127.0.0.1.
// Usage: node supergraph.mjs --supergraph supergraph.graphql [--port 0] [--capture-traces]
// Prints `supergraph: <url>` when listening. With --capture-traces the gateway asks every subgraph for a
// federated trace (header `apollo-federation-include-trace: ftv1`, as usage reporting does) and each
// response gets `extensions.fetches`: per subgraph fetch, whether its ftv1 decoded and the decoded tree.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const { values } = parseArgs({
  options: {
    supergraph: { type: 'string' },
    port: { type: 'string', default: '0' },
    'capture-traces': { type: 'boolean', default: false },
  },
});
if (!values.supergraph) {
  console.error('usage: node supergraph.mjs --supergraph FILE [--port 0] [--capture-traces]');
  process.exit(2);
}

const number = (value) => (value == null ? 0 : Number(value.toString()));

function traceNode(node) {
  const id = node.id; // the oneof's set member: 'responseName', 'index', or undefined (the root)
  return {
    responseName: id === 'responseName' ? node.responseName : null,
    index: id === 'index' ? number(node.index) : null,
    originalFieldName: node.originalFieldName || null,
    type: node.type || null,
    parentType: node.parentType || null,
    startTime: number(node.startTime),
    endTime: number(node.endTime),
    errors: (node.error ?? []).map((e) => ({ message: e.message, json: e.json ? JSON.parse(e.json) : null })),
    children: (node.child ?? []).map(traceNode),
  };
}

function fetches(planNode, out = []) {
  if (!planNode) return out;
  if (planNode.fetch) {
    const { fetch } = planNode;
    out.push({
      service: fetch.serviceName,
      traceParsingFailed: !!fetch.traceParsingFailed,
      trace: fetch.trace ? {
        durationNs: number(fetch.trace.durationNs),
        startTime: fetch.trace.startTime ? { seconds: number(fetch.trace.startTime.seconds),
          nanos: number(fetch.trace.startTime.nanos) } : null,
        endTime: fetch.trace.endTime ? { seconds: number(fetch.trace.endTime.seconds),
          nanos: number(fetch.trace.endTime.nanos) } : null,
        root: fetch.trace.root ? traceNode(fetch.trace.root) : null,
      } : null,
    });
  }
  for (const child of [...(planNode.sequence?.nodes ?? []), ...(planNode.parallel?.nodes ?? [])]) fetches(child, out);
  if (planNode.flatten) fetches(planNode.flatten.node, out);
  if (planNode.condition) { fetches(planNode.condition.ifClause, out); fetches(planNode.condition.elseClause, out); }
  return out;
}

const captureTraces = {
  async requestDidStart(requestContext) {
    requestContext.metrics.captureTraces = true;
    return {
      async willSendResponse({ metrics, response }) {
        if (response.body.kind !== 'single') return;
        const result = response.body.singleResult;
        result.extensions = { ...(result.extensions ?? {}), fetches: fetches(metrics.queryPlanTrace) };
      },
    };
  },
};

const gateway = new ApolloGateway({ supergraphSdl: readFileSync(values.supergraph, 'utf8') });
const server = new ApolloServer({ gateway, plugins: values['capture-traces'] ? [captureTraces] : [] });
const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: Number(values.port) } });
console.log(`supergraph: ${url}`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => { server.stop().finally(() => process.exit(0)); });
}
