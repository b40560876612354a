// Drives ducha with the graphql-ws library's own client (as dashboards do) and prints
// one JSON line with what it saw.
// Usage: node ws-client.mjs ws://127.0.0.1:PORT/graphql/ws <token>
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
  lazy: true,
});

const result = {};
try {
  result.query = await new Promise((resolve, reject) => {
    let value;
    client.subscribe(
      { query: '{ me { name role } }' },
      { next: (v) => (value = v), error: reject, complete: () => resolve(value) },
    );
  });
  result.invalid = await new Promise((resolve) => {
    client.subscribe(
      { query: 'subscription { noSuchField }' },
      { next: () => {}, error: (errors) => resolve(errors), complete: () => resolve('completed') },
    );
  });
} catch (error) {
  result.failure = String(error && (error.message || error.reason || error));
}
await client.dispose();

// A refused token: the client sees the connection close with 4403.
const refused = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: 'Bearer dch_nonsense' },
  retryAttempts: 0,
  lazy: true,
});
result.refused = await new Promise((resolve) => {
  refused.subscribe(
    { query: '{ __typename }' },
    { next: () => {}, error: (e) => resolve(e && e.code), complete: () => resolve('completed') },
  );
});
await refused.dispose();
console.log(JSON.stringify(result));
