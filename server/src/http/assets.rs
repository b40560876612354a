//! Files served from the binary: GraphiQL (pinned npm builds, see
//! `scripts/update-graphiql.sh` and `server/assets/graphiql/VERSIONS`) and the page that
//! starts it. Nothing is fetched from a CDN, so GraphiQL works on a network with no
//! internet.

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{IntoResponse, Response, handler};

/// Name, media type and bytes of every served asset.
const ASSETS: [(&str, &str, &[u8]); 8] = [
    (
        "graphiql/graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql/graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "graphiql/react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "graphiql/react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "graphiql-page.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql-page.js"),
    ),
    (
        "graphiql-page.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql-page.css"),
    ),
    (
        "web/ducha.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/web/ducha.css"),
    ),
    (
        "web/ducha.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/web/ducha.js"),
    ),
];

const GRAPHIQL_PAGE: &str = include_str!("../../assets/graphiql.html");

/// The policy of the GraphiQL page: its own scripts only (no inline script, no eval), the
/// inline styles its editor sets, fonts embedded as data, and requests to this server.
const GRAPHIQL_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// GraphiQL, for a browser that opens `/graphql`.
pub fn graphiql_page() -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CONTENT_SECURITY_POLICY, GRAPHIQL_POLICY)
        .header(header::CACHE_CONTROL, "no-cache")
        .body(GRAPHIQL_PAGE)
}

#[handler]
pub fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, media, bytes)) => Response::builder()
            .header(header::CONTENT_TYPE, *media)
            // A day: the names do not change with versions, and a new binary may bring
            // new files under them.
            .header(header::CACHE_CONTROL, "public, max-age=86400")
            .body(*bytes),
        None => super::errors::json_error(StatusCode::NOT_FOUND, "NOT_FOUND", "地址不存在")
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::ASSETS;

    /// The vendored files are the ones `scripts/update-graphiql.sh` checked against the
    /// npm registry's integrity: nobody edits them by hand.
    #[test]
    fn vendored_files_match_their_recorded_sums() {
        let sums = include_str!("../../assets/graphiql/SHA256SUMS");
        let mut checked = 0;
        for line in sums.lines().filter(|l| !l.trim().is_empty()) {
            let (sum, file) = line.split_once("  ").expect("`sum  file` lines");
            let (_, _, bytes) = ASSETS
                .iter()
                .find(|(name, _, _)| name.strip_prefix("graphiql/") == Some(file))
                .unwrap_or_else(|| panic!("{file} is recorded but not served"));
            assert_eq!(hex::encode(Sha256::digest(bytes)), sum, "{file} changed");
            checked += 1;
        }
        assert_eq!(checked, 4, "every vendored file has a recorded sum");
    }
}
