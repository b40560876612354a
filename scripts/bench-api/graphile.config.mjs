// PostGraphile 5 beside ducha, for scripts/bench-api/run.sh. Set up as in production: no
// GraphiQL, no watch mode, no explain. The schema comes from ducha's own tables, and nothing
// is added to the database: the two tweaks below live only in this file.
//
// run.sh starts it like this (Node 22 from ./node_modules; Node 20 breaks PostGraphile 5):
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/ducha_api_bench PGL_PORT=18182 \
//   PGL_POOL_MAX=16 NODE_ENV=production \
//   node_modules/.bin/node node_modules/postgraphile/dist/cli-run.js -C graphile.config.mjs
// Set the connection here (DATABASE_URL) and not with the CLI's -c: with -c the CLI builds
// its own pg service, and that service ignores poolConfig.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";
import { makePgService } from "postgraphile/adaptors/pg";
import { extendSchema, gql, jsonPgSmartTags } from "postgraphile/utils";
import { TYPES } from "postgraphile/@dataplan/pg";
import { sql } from "postgraphile/pg-sql2";

const connectionString = process.env.DATABASE_URL;
if (!connectionString) {
  throw new Error("set DATABASE_URL to the PostgreSQL database that ducha uses");
}

// Item.assignmentsList is a plain list, shaped like ducha's Item.assignments, instead of a
// Relay connection. It has the same effect as
// COMMENT ON CONSTRAINT fk_assignment_item ON assignment IS E'@backwardBehavior +list -connection';
const SmartTags = jsonPgSmartTags({
  version: 1,
  config: {
    class: {
      "public.assignment": {
        constraint: {
          fk_assignment_item: { tags: { backwardBehavior: "+list -connection" } },
        },
      },
    },
  },
});

// Assignment.effectiveDueAt = coalesce(extended_due_at, due_at). It is computed inside the
// generated SQL, the same value as ducha's extendedDueAt ?? dueAt.
const EffectiveDueAt = extendSchema(() => ({
  typeDefs: gql`
    extend type Assignment {
      effectiveDueAt: Datetime!
    }
  `,
  objects: {
    Assignment: {
      plans: {
        effectiveDueAt($a) {
          const alias = $a.getClassStep().alias;
          return $a.select(
            sql`coalesce(${alias}.extended_due_at, ${alias}.due_at)`,
            TYPES.timestamptz,
          );
        },
      },
    },
  },
}));

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
  plugins: [SmartTags, EffectiveDueAt],
  pgServices: [
    makePgService({
      connectionString,
      schemas: ["public"],
      // node-postgres Pool options, for this one process. pg's defaults are max 10 and
      // idleTimeoutMillis 10000. run.sh sets max to ducha's pool size (16), and the idle
      // timeout to sqlx's default of 10 minutes, so that neither pool drops connections
      // between benchmark runs.
      poolConfig: {
        max: Number(process.env.PGL_POOL_MAX ?? 10),
        idleTimeoutMillis: Number(process.env.PGL_IDLE_MS ?? 10000),
      },
    }),
  ],
  grafserv: {
    host: process.env.PGL_HOST ?? "127.0.0.1",
    port: Number(process.env.PGL_PORT ?? 5678),
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    watch: false,
  },
  grafast: {
    explain: false,
  },
};
export default preset;
