/// `schema.graphql` is the API's contract, reviewed in diffs; it must match the code.
/// Regenerate with `cargo run -q -- schema > schema.graphql`.
#[test]
fn schema_graphql_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    let generated = ducha_server::graphql::sdl();
    assert!(
        checked_in == generated,
        "schema.graphql is out of date: run `cargo run -q -- schema > schema.graphql`"
    );
}
