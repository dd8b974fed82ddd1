// A second Federation v2 subgraph for the tests: it adds `reviewNote` to the gateway's OpenMLRun entity and
// a `reviews` query that returns OpenMLRun references, so the supergraph crosses both ways.
// Usage: node reviews-subgraph.mjs [--port 0]   (prints `reviews: <url>` when listening on 127.0.0.1)
// Prints one JSON line per request served: {"event":"request","operationName":...,"representations":N}.
import { parseArgs } from 'node:util';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

export const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])

  type OpenMLRun @key(fields: "id") {
    id: ID!
    "A reviewer's note on the run (deterministic in this test subgraph)."
    reviewNote: String
  }

  "A review of one run."
  type Review {
    id: ID!
    note: String!
    run: OpenMLRun!
  }

  type Query {
    "Reviews of the given runs (global ids such as openml:run:100), one per id, in order."
    reviews(runIds: [ID!]!): [Review!]!
  }
`);

export const noteOf = (runId) => `reviewed ${runId}`;

const resolvers = {
  Query: {
    reviews: (_root, { runIds }) => runIds.map((id) => ({ id: `review:${id}`, note: noteOf(id), run: { id } })),
  },
  OpenMLRun: {
    __resolveReference: (reference) => ({ id: reference.id }),
    reviewNote: (run) => noteOf(run.id),
  },
};

const requestLog = {
  async requestDidStart({ request }) {
    return {
      async willSendResponse() {
        const representations = request.variables?.representations;
        console.log(JSON.stringify({
          event: 'request',
          operationName: request.operationName ?? null,
          representations: Array.isArray(representations) ? representations.length : 0,
        }));
      },
    };
  },
};

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs, resolvers }), plugins: [requestLog] });
const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: Number(values.port) } });
console.log(`reviews: ${url}`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => { server.stop().finally(() => process.exit(0)); });
}
