#!/usr/bin/env python3
"""Writes the request bodies of the API benchmark: python3 queries.py DIR ITEM_ID.

For each query it writes DIR/<query>.ducha.json and, when PostGraphile has a counterpart,
DIR/<query>.pgl.json. The PostGraphile queries use aliases, so that both servers answer
with the same JSON keys:
- ducha lists items newest first (ORDER BY id DESC), so PostGraphile uses PRIMARY_KEY_DESC.
- ducha gives each item's assignments by id, withdrawn ones included, so PostGraphile uses
  assignmentsList(orderBy: PRIMARY_KEY_ASC) with no filter.
- PostGraphile names the primary key rowId, because its `id` is the Node global ID.
- effectiveDueAt comes from graphile.config.mjs.
The two servers' global IDs differ, so no query asks for `id`.
"""
import json
import sys
from pathlib import Path

ITEM_FIELDS = "databaseId serial title stage assignments { lead dueAt effectiveDueAt unit { name } }"
PGL_ITEM_FIELDS = (
    "databaseId: rowId serial title stage "
    "assignments: assignmentsList(orderBy: PRIMARY_KEY_ASC) { lead dueAt effectiveDueAt unit { name } }"
)
# list+colour: the list plus the colours, which ducha computes when it reads them.
COLOUR_ITEM_FIELDS = (
    "databaseId serial title stage colour colourReason "
    "assignments { lead dueAt effectiveDueAt colour unit { name } }"
)


# Stands for the item's id in item-random's bodies: post.lua puts a random id there for
# every request, so each one reads an item the server has most likely not read before.
RANDOM_ID = "__RANDOM_ID__"


def bodies(item_id):
    """{query name: {server: request body}}"""
    variables = {"id": str(item_id)}  # both take the id as a string (ID!, BigInt!)
    random = {"id": RANDOM_ID}
    return {
        "list": {
            "ducha": {"query": "{ items(first: 50) { edges { node { %s } } } }" % ITEM_FIELDS},
            "pgl": {
                "query": "{ items(first: 50, orderBy: PRIMARY_KEY_DESC) { edges { node { %s } } } }"
                % PGL_ITEM_FIELDS
            },
        },
        "item": {
            "ducha": {
                "query": "query($id: ID!) { item(id: $id) { %s } }" % ITEM_FIELDS,
                "variables": variables,
            },
            "pgl": {
                "query": "query($id: BigInt!) { item(rowId: $id) { %s } }" % PGL_ITEM_FIELDS,
                "variables": variables,
            },
        },
        "item-random": {
            "ducha": {
                "query": "query($id: ID!) { item(id: $id) { %s } }" % ITEM_FIELDS,
                "variables": random,
            },
            "pgl": {
                "query": "query($id: BigInt!) { item(rowId: $id) { %s } }" % PGL_ITEM_FIELDS,
                "variables": random,
            },
        },
        "list+colour": {
            "ducha": {
                "query": "{ items(first: 50) { edges { node { %s } } } }" % COLOUR_ITEM_FIELDS
            },
        },
    }


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: queries.py DIR ITEM_ID")
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, per_server in bodies(int(sys.argv[2])).items():
        for server, body in per_server.items():
            (out / f"{name}.{server}.json").write_text(json.dumps(body, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
