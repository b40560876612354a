// Runs graphql-http's server audits (the GraphQL-over-HTTP spec's MUSTs, SHOULDs and MAYs)
// against a running server and prints one JSON line per audit.
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql [token]
// Some audits ask `__type`, which the service shows only to people signed in (unless
// `public_schema` is set): with a token, every request carries it.
import { serverAudits } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url) {
  console.error('usage: node audit.mjs <url> [token]');
  process.exit(2);
}
const fetchFn = (input, init = {}) => {
  if (!token) {
    return fetch(input, init);
  }
  const headers = new Headers(init.headers || {});
  headers.set('Authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  const line = { id: audit.id, name: audit.name, status: result.status };
  if (result.status !== 'ok') {
    line.reason = result.reason;
  }
  console.log(JSON.stringify(line));
}
